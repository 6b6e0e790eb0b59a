#include "server/memory_release.hpp"

#include <malloc.h>

#include "log/log.hpp"

namespace vixy::server {

bool worth_trimming(std::size_t free_bytes, std::size_t in_use_bytes, std::size_t floor) {
  return free_bytes > floor && free_bytes > in_use_bytes;
}

MemoryRelease::MemoryRelease(boost::asio::any_io_executor executor) : timer_(std::move(executor)) {}

void MemoryRelease::start() { schedule(); }

void MemoryRelease::stop() {
  stopped_ = true;
  timer_.cancel();
}

void MemoryRelease::schedule() {
  if (stopped_) return;
  timer_.expires_after(kInterval);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->stopped_) return;
    self->check();
    self->schedule();
  });
}

void MemoryRelease::check() {
#if defined(__GLIBC__)
  // mallinfo2 covers every arena: the threads' own as well as the main one.
  struct mallinfo2 info = mallinfo2();
  if (!worth_trimming(info.fordblks, info.uordblks, kFloorBytes)) return;
  malloc_trim(0);
  log::debug("memory returned", {{"free_bytes", info.fordblks}, {"in_use_bytes", info.uordblks}});
#endif
}

}  // namespace vixy::server
