#include "net/stable_port.hpp"

#include <fstream>
#include <random>

namespace vixy::net {
namespace {

std::uint16_t ephemeral_low() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  unsigned low = 32768;
  unsigned high = 60999;
  if (!(range >> low >> high) || low <= 2048 || low > 65535) low = 32768;
  return static_cast<std::uint16_t>(low);
}

}  // namespace

boost::system::error_code bind_stable_port(const std::function<boost::system::error_code(std::uint16_t)>& try_bind,
                                           int attempts) {
  static std::mt19937 generator{std::random_device{}()};
  std::uniform_int_distribution<unsigned> pick(1024, ephemeral_low() - 1u);
  boost::system::error_code ec;
  for (int i = 0; i < attempts; ++i) {
    ec = try_bind(static_cast<std::uint16_t>(pick(generator)));
    if (!ec) return ec;
  }
  return try_bind(0);
}

}  // namespace vixy::net
