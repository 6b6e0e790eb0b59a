#include "routing/rate_limit.hpp"

#include <algorithm>
#include <random>

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

std::uint64_t random_salt() {
  std::random_device device;
  return (std::uint64_t{device()} << 32) ^ device();
}

}  // namespace

RateLimiter::RateLimiter(std::uint64_t per_second, std::uint64_t burst)
    : RateLimiter(per_second, burst, random_salt()) {}

RateLimiter::RateLimiter(std::uint64_t per_second, std::uint64_t burst, std::uint64_t salt)
    : interval_(static_cast<std::int64_t>(1'000'000'000 / std::max<std::uint64_t>(per_second, 1))),
      burst_(std::max<std::uint64_t>(burst, 1)),
      salt_(salt),
      slots_(std::make_unique<std::array<Slot, kSlots>>()) {}

std::size_t RateLimiter::home(std::uint64_t key) const { return mix(key ^ salt_) % kSlots; }

RateLimiter::Slot& RateLimiter::slot_for(std::uint64_t key, std::int64_t now) {
  const std::uint64_t hash = mix(key ^ salt_);
  const std::uint64_t tag = hash | 1;  // never 0, the mark of an unused slot
  auto& slots = *slots_;
  auto at = [&](std::size_t probe) -> Slot& { return slots[(hash + probe) % kSlots]; };
  // The key's own slot first, wherever it is among the probes: taking an earlier free one instead
  // would hand a client that emptied its bucket a full one.
  for (std::size_t probe = 0; probe < kProbes; ++probe) {
    if (at(probe).owner.load(std::memory_order_acquire) == tag) return at(probe);
  }
  for (std::size_t probe = 0; probe < kProbes; ++probe) {
    Slot& slot = at(probe);
    std::uint64_t owner = slot.owner.load(std::memory_order_acquire);
    // A full bucket is the same as no entry (its tat is in the past, which reads as full for the
    // next owner too): its slot can be taken over. Two clients may race for it; the loser looks further.
    if (owner == 0 || slot.tat.load(std::memory_order_relaxed) <= now) {
      if (slot.owner.compare_exchange_strong(owner, tag, std::memory_order_acq_rel)) return slot;
      if (owner == tag) return slot;
    }
  }
  // Every slot near it busy: share the first. The salt keeps anyone from choosing addresses that
  // crowd a given client's slots on purpose.
  return at(0);
}

RateLimiter::Verdict RateLimiter::admit(std::uint64_t key, std::uint64_t cost, Nanos now_ns) {
  const std::int64_t now = now_ns.count();
  const std::int64_t limit = static_cast<std::int64_t>(burst_) * interval_;
  // A request (or batch) is let in when `min(cost, burst)` fits the bucket, and charged its whole
  // cost: a batch larger than the burst needs a full bucket and leaves the client owing the rest,
  // so the average stays the rate whatever the batch sizes.
  const std::int64_t fits = static_cast<std::int64_t>(std::clamp<std::uint64_t>(cost, 1, burst_)) * interval_;
  const std::int64_t charge = static_cast<std::int64_t>(std::max<std::uint64_t>(cost, 1)) * interval_;
  Slot& slot = slot_for(key, now);
  std::int64_t tat = slot.tat.load(std::memory_order_relaxed);
  for (;;) {
    std::int64_t from = std::max(tat, now);
    if (from + fits - now > limit) return {false, Nanos(from + fits - now - limit)};
    if (slot.tat.compare_exchange_weak(tat, from + charge, std::memory_order_relaxed)) return {true, Nanos(0)};
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
