#include "routing/rate_limit.hpp"

#include <algorithm>

namespace vixy::routing {

namespace {

constexpr std::size_t kProbes = 8;  // slots looked at for a key before it shares one

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser: keys that differ in few bits spread
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

RateLimiter::RateLimiter(std::uint64_t per_second, std::uint64_t burst)
    : interval_(static_cast<std::int64_t>(1'000'000'000 / std::max<std::uint64_t>(per_second, 1))),
      burst_(std::max<std::uint64_t>(burst, 1)),
      slots_(std::make_unique<std::array<Slot, kSlots>>()) {}

RateLimiter::Slot& RateLimiter::slot_for(std::uint64_t key, std::int64_t now) {
  const std::uint64_t hash = mix(key);
  const std::uint64_t tag = hash | 1;  // never 0, the mark of an unused slot
  auto& slots = *slots_;
  for (std::size_t probe = 0; probe < kProbes; ++probe) {
    Slot& slot = slots[(hash + probe) % kSlots];
    std::uint64_t owner = slot.owner.load(std::memory_order_acquire);
    if (owner == tag) return slot;
    // A full bucket is the same as no entry: its slot can be taken over. Two clients may race for
    // it; the loser looks further.
    if (owner == 0 || slot.tat.load(std::memory_order_relaxed) <= now) {
      if (slot.owner.compare_exchange_strong(owner, tag, std::memory_order_acq_rel)) {
        slot.tat.store(0, std::memory_order_relaxed);
        return slot;
      }
      if (owner == tag) return slot;
    }
  }
  return slots[hash % kSlots];  // every slot near it busy: share the first
}

RateLimiter::Verdict RateLimiter::admit(std::uint64_t key, std::uint64_t cost, Nanos now_ns) {
  const std::int64_t now = now_ns.count();
  const std::int64_t limit = static_cast<std::int64_t>(burst_) * interval_;
  const std::int64_t charge = static_cast<std::int64_t>(std::clamp<std::uint64_t>(cost, 1, burst_)) * interval_;
  Slot& slot = slot_for(key, now);
  std::int64_t tat = slot.tat.load(std::memory_order_relaxed);
  for (;;) {
    std::int64_t next = std::max(tat, now) + charge;
    if (next - now > limit) return {false, Nanos(next - now - limit)};
    if (slot.tat.compare_exchange_weak(tat, next, std::memory_order_relaxed)) return {true, Nanos(0)};
  }
}

std::uint64_t retry_after_seconds(RateLimiter::Nanos retry_after) {
  auto whole = std::chrono::ceil<std::chrono::seconds>(retry_after).count();
  return static_cast<std::uint64_t>(std::max<std::int64_t>(whole, 1));
}

std::string rate_limited_message(std::uint64_t per_second, std::uint64_t burst, std::uint64_t retry_after_s) {
  return "rate limit exceeded: " + std::to_string(per_second) + " requests per second (burst " + std::to_string(burst) +
         ") per client address; retry after " + std::to_string(retry_after_s) + " s";
}

}  // namespace vixy::routing
