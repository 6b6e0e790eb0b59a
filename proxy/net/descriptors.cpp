#include "net/descriptors.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace vixy::net {
namespace {
// Beyond this the number is no limit worth computing with (RLIM_INFINITY included).
constexpr std::uint64_t kLargestLimit = 1u << 30;
}  // namespace

std::uint64_t descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  return std::min<std::uint64_t>(limit.rlim_cur, kLargestLimit);
}

std::uint64_t raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  return descriptor_limit();
}

std::uint64_t connections_for_descriptors(std::uint64_t limit) {
  std::uint64_t reserve = std::min(kDescriptorReserve, limit / 2);
  return std::max<std::uint64_t>(1, (limit - reserve) / 2);
}

}  // namespace vixy::net
