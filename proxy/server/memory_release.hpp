#pragma once
// Gives the memory of a load that has passed back to the system.
//
// glibc's malloc keeps what it freed for the next allocation: after 5,000 WebSocket sessions opened
// and closed, vixy's heap still held 72 MB of which 2.8 MB were in use, and its RSS stayed at
// 83 MB (12.5 MB idle) for as long as it ran. malloc_trim() returns the free pages (83 -> 33 MB
// there). It walks the heap under the allocator's locks, so the check runs every few seconds and
// trims only when the free part is large. The vixy binary is linked with jemalloc, whose background
// thread does this (proxy/allocator.cpp); there glibc's heap stays empty and this check does nothing.
// It serves builds on glibc's malloc.

#include <chrono>
#include <cstddef>
#include <memory>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

namespace vixy::server {

// Trim when the heap holds more than `floor` bytes free and more free than in use: a busy process
// reuses what it frees, a quiet one has no use for it.
bool worth_trimming(std::size_t free_bytes, std::size_t in_use_bytes, std::size_t floor);

class MemoryRelease : public std::enable_shared_from_this<MemoryRelease> {
 public:
  static constexpr std::chrono::seconds kInterval{5};
  static constexpr std::size_t kFloorBytes = 16u << 20;

  explicit MemoryRelease(boost::asio::any_io_executor executor);
  void start();
  void stop();

 private:
  void schedule();
  void check();

  boost::asio::steady_timer timer_;
  bool stopped_ = false;
};

}  // namespace vixy::server
