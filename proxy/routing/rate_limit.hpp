#pragma once
// [limits] requests_per_second and burst, per client: the generic cell rate algorithm (a token
// bucket kept as one number, the "theoretical arrival time") in a fixed table of atomics that every
// thread shares without a lock. Memory is fixed (kSlots entries, 1 MiB) whatever the number of
// clients: an entry whose bucket has refilled holds nothing worth keeping and is taken over by the
// next client that needs room; when more clients than that are sending at once, some share a bucket.

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace vixy::routing {

class RateLimiter {
 public:
  static constexpr std::size_t kSlots = 65536;
  using Nanos = std::chrono::nanoseconds;

  // `per_second` requests on average, up to `burst` at once (both at least 1). Keys are hashed
  // with a random salt; tests give their own.
  RateLimiter(std::uint64_t per_second, std::uint64_t burst);
  RateLimiter(std::uint64_t per_second, std::uint64_t burst, std::uint64_t salt);

  struct Verdict {
    bool allowed = true;
    Nanos retry_after{0};  // refused: when `cost` would be allowed, if nothing else comes
  };
  // `cost` requests (a batch's entries) from client `key` at `now` (any monotonic clock, the same
  // for every call). More than `burst` at once is let in only with a full bucket, and charged in
  // full: the client then waits until the rate has paid for it.
  Verdict admit(std::uint64_t key, std::uint64_t cost, Nanos now);
  // The first slot `key` would look at (for tests that need two clients to collide).
  std::size_t home(std::uint64_t key) const;

 private:
  struct Slot {
    std::atomic<std::uint64_t> owner{0};  // the key's tag; 0: never used
    std::atomic<std::int64_t> tat{0};     // theoretical arrival time, ns: the bucket is full when <= now
  };
  Slot& slot_for(std::uint64_t key, std::int64_t now);

  std::int64_t interval_;  // ns per request
  std::uint64_t burst_;
  std::uint64_t salt_;
  std::unique_ptr<std::array<Slot, kSlots>> slots_;
};

// The client's error message and its Retry-After in whole seconds (at least 1).
std::uint64_t retry_after_seconds(RateLimiter::Nanos retry_after);
std::string rate_limited_message(std::uint64_t per_second, std::uint64_t burst, std::uint64_t retry_after_s);

}  // namespace vixy::routing
