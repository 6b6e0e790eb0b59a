#include "chaos/hostile.hpp"

#include <boost/asio/post.hpp>
#include <optional>

#include "chaos/history.hpp"
#include "chaos/hostile_clients.hpp"
#include "chaos/hostile_messages.hpp"
#include "chaos/http_client.hpp"

namespace vixy::chaos {

namespace asio = boost::asio;
using namespace hostile_detail;

namespace {

Ms interval_of(double per_second) { return Ms(static_cast<long long>(1000.0 / per_second)); }

}  // namespace

HostileRunner::HostileRunner(const HostileWorkload& spec, std::uint16_t proxy_port)
    : spec_(spec), port_(proxy_port), io_(std::make_unique<HostileIo>(*this, spec_, port_)) {}

HostileRunner::~HostileRunner() { finish(); }

void HostileRunner::start() {
  if (!spec_.any()) return;
  attacking_ = true;
  HostileIo& h = *io_;
  for (int i = 0; i < spec_.slow_readers; ++i) start_slow_reader(h, i);
  // Half of each kind goes over WebSocket (here), half over POST /el (http_loop).
  auto over_ws = [&](const char* group, double per_second, std::function<std::string(std::uint64_t)> make) {
    if (per_second <= 0) return;
    start_ws_attacker(h, group, interval_of(per_second / 2), std::move(make));
  };
  int depth = spec_.nested_depth;
  over_ws(kNested, spec_.nested_json_per_second, [depth](std::uint64_t n) {
    std::string id = "hostile-n" + std::to_string(n);
    return n % 2 ? nested_params_request(id, depth) : nested_logs_subscribe(id, depth);
  });
  int size = spec_.huge_batch_size;
  over_ws(kHuge, spec_.huge_batches_per_second,
          [size](std::uint64_t n) { return huge_batch("hostile-b" + std::to_string(n), size); });
  for (int i = 0; i < spec_.idle_connections; ++i) start_idle_connection(h);
  if (spec_.connection_flood_per_second > 0) start_flood(h, interval_of(spec_.connection_flood_per_second));
  h.guard.emplace(h.io.get_executor());
  io_thread_ = std::thread([&h] { h.io.run(); });
  if (spec_.nested_json_per_second > 0 || spec_.huge_batches_per_second > 0) {
    http_thread_ = std::thread([this] { http_loop(); });
  }
}

void HostileRunner::stop_attacking() {
  {
    std::lock_guard lock(pace_mutex_);
    attacking_ = false;
  }
  pace_.notify_all();
  if (io_thread_.joinable()) asio::post(io_->io, [h = io_.get()] { h->attacking = false; });
}

void HostileRunner::finish() {
  if (finished_) return;
  finished_ = true;
  stop_attacking();
  if (http_thread_.joinable()) http_thread_.join();
  if (!io_thread_.joinable()) return;
  asio::post(io_->io, [h = io_.get()] {
    h->attacking = false;
    h->finishing = true;
    for (auto& f : h->finishers) f();
    h->finishers.clear();
  });
  // Every socket is closed and every timer cancelled: run() returns once their handlers ran.
  io_->guard.reset();
  io_thread_.join();
}

void HostileRunner::http_loop() {
  auto now = SteadyClock::now();
  // Half of each kind goes over POST /el (here), half over WebSocket.
  std::optional<Ms> nested_every, huge_every;
  if (spec_.nested_json_per_second > 0) nested_every = interval_of(spec_.nested_json_per_second / 2);
  if (spec_.huge_batches_per_second > 0) huge_every = interval_of(spec_.huge_batches_per_second / 2);
  SteadyTime next_nested = now, next_huge = now + Ms(100);
  std::uint64_t nested = 0, huge = 0;
  auto post = [&](const char* group, std::string body) {
    auto r = post_json("127.0.0.1", port_, "/el", std::move(body), kAnswerTimeout);
    tally(group, "http: " + describe_http(r));
  };
  while (attacking_) {
    auto due = SteadyTime::max();
    if (nested_every) due = std::min(due, next_nested);
    if (huge_every) due = std::min(due, next_huge);
    {
      // Pacing the attack rate; stop_attacking() wakes it at once.
      std::unique_lock lock(pace_mutex_);
      pace_.wait_until(lock, due, [this] { return !attacking_; });
    }
    if (!attacking_) break;
    now = SteadyClock::now();
    if (nested_every && now >= next_nested) {
      ++nested;
      std::string id = "hostile-hn" + std::to_string(nested);
      post(kNested, nested % 2 ? nested_params_request(id, spec_.nested_depth) : nested_id_request(spec_.nested_depth));
      next_nested = std::max(next_nested + *nested_every, SteadyClock::now());
    }
    if (huge_every && now >= next_huge) {
      post(kHuge, huge_batch("hostile-hb" + std::to_string(++huge), spec_.huge_batch_size));
      next_huge = std::max(next_huge + *huge_every, SteadyClock::now());
    }
  }
}

void HostileRunner::tally(const std::string& group, const std::string& outcome) {
  std::lock_guard lock(mutex_);
  ++report_.outcomes[group][outcome];
}

void HostileRunner::slow_reader_closed(double after_ms) {
  std::lock_guard lock(mutex_);
  report_.slow_reader_closed_after_ms.push_back(after_ms);
}

HostileReport HostileRunner::report() const {
  std::lock_guard lock(mutex_);
  return report_;
}

std::string HostileRunner::summary() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [group, outcomes] : report_.outcomes) {
    std::uint64_t total = 0;
    for (const auto& [outcome, n] : outcomes) total += n;
    out += (out.empty() ? "" : ", ") + group + " " + std::to_string(total);
  }
  return out.empty() ? "nothing yet" : out;
}

}  // namespace vixy::chaos
