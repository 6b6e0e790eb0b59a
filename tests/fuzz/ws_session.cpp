// The WebSocket session core (ws/session_core.hpp) driven by bytes: the input decodes into the
// settings and the event sequence of one session, run in the model World of the RapidCheck test
// (tests/property/ws_model*.hpp), which checks I1–I5 and I7 on everything the client and the fake
// nodes see after every event, then drains (every upstream connects and answers everything, time
// passes beyond the request timeout) and checks that every request had exactly one answer.
//
// Input layout (seeds in corpus/ws_session/ are written this way):
//   byte 0: 0xF0 or more: the input is for HostileSession (ws_session_hostile.hpp), read there;
//           otherwise max_pending_requests (2, 5 or 64 by value % 3)   byte 1: max_subscriptions (2 or 16)
//   byte 2: the healthy nodes at the start (bit mask of 3 nodes)
//   then 6 bytes per event: op (Op in ws_model_ops.hpp, by value % its count), a (2 bytes, big
//   endian), b (2 bytes), c (1 byte): the numbers that pick among what exists when it runs.
// The client's texts come from the model's dictionary (requests of every method and id style,
// reused and duplicate ids, subscribes to newHeads/logs/syncing, unsubscribes of known and unknown
// ids, batches, garbage, notifications); the nodes answer what the core actually sent them.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "ws_model_ops.hpp"
#include "ws_session_hostile.hpp"

namespace {

using namespace vixy::ws::model;

class Bytes {
 public:
  Bytes(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool empty() const { return pos_ >= size_; }
  unsigned next() { return pos_ < size_ ? data_[pos_++] : 0U; }
  unsigned next16() {
    unsigned high = next();
    return (high << 8) | next();
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

void run_hostile(const std::uint8_t* data, std::size_t size) {
  vixy::fuzz::HostileSession session;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (rest.size() >= 2) {
    const auto kind = static_cast<unsigned char>(rest[0]);
    const auto length = std::min<std::size_t>(static_cast<unsigned char>(rest[1]), rest.size() - 2);
    session.frame(kind, rest.substr(2, length));
    rest.remove_prefix(2 + length);
  }
  session.drain();
}

constexpr std::size_t kMaxEvents = 200;  // bounds one input's time whatever -max_len says

void check(const World& world, const std::string& where) {
  if (!world.violation().empty()) vixy::fuzz::check_failed(where + ": " + world.violation(), __FILE__, __LINE__);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 0 && data[0] >= 0xF0) {
    run_hostile(data + 1, size - 1);
    return 0;
  }
  Bytes in(data, size);
  static constexpr std::size_t kPending[] = {2, 5, 64};
  const auto max_pending = kPending[in.next() % 3];
  const std::size_t max_subscriptions = in.next() % 2 == 0 ? 2 : 16;
  const auto mask = in.next();
  std::vector<std::size_t> candidates;
  for (std::size_t node = 0; node < World::kNodes; ++node) {
    if ((mask >> node) & 1U) candidates.push_back(node);
  }
  World world(max_pending, max_subscriptions, candidates);
  check(world, "start");
  for (std::size_t event = 0; event < kMaxEvents && !in.empty(); ++event) {
    const auto op = static_cast<Op>(in.next() % kOpCount);
    const unsigned a = in.next16() % 1024;
    const unsigned b = in.next16();
    const unsigned c = in.next() % 8;
    run_op(world, op, a, b, c);
    check(world, "event " + std::to_string(event) + " " + std::string(op_name(op)) + "(" + std::to_string(a) +
                     ", " + std::to_string(b) + ", " + std::to_string(c) + ")");
  }
  world.drain();
  check(world, "after draining");
  return 0;
}
