#include "chaos/injector.hpp"

#include <functional>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <stdexcept>
#include <thread>

#include "chaos/injector_relay.hpp"
#include "log/log.hpp"

namespace vixy::chaos {

namespace asio = boost::asio;
using detail::DirectionFaults;

struct FaultInjector::Impl {
  Impl(std::string host, std::uint16_t target_port, std::uint16_t listen_port)
      : relay(io, std::move(host), target_port, listen_port) {}

  // Runs f on the injector's thread and returns its result, so that a fault is in effect when the
  // setter returns.
  template <class F>
  auto run(F f) -> decltype(f()) {
    if (io.get_executor().running_in_this_thread()) return f();
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    asio::post(io, std::move(task));
    return result.get();
  }

  // Applies a change on the injector's thread and logs it.
  void change(std::initializer_list<log::Field> fields, const std::function<void()>& what) {
    run([&] {
      what();
      relay.faults_changed();
      log::write(log::Level::info, "fault", fields);
    });
  }

  asio::io_context io{1};
  // Keeps run() going while nothing listens (after kill) so that later calls still get served.
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  detail::Relay relay;
  std::promise<void> ran;
  std::thread thread;
};

FaultInjector::FaultInjector(std::string target_host, std::uint16_t target_port, std::uint16_t listen_port)
    : impl_(std::make_shared<Impl>(std::move(target_host), target_port, listen_port)) {
  impl_->thread = std::thread([impl = impl_.get()] {
    impl->io.run();
    impl->ran.set_value();
  });
  log::info("injector started", {{"port", impl_->relay.port()}, {"target", impl_->relay.target()}});
}

FaultInjector::~FaultInjector() {
  Impl& impl = *impl_;
  impl.run([&] {
    impl.relay.stop_listening();
    impl.relay.close_every(true);
  });
  // Every coroutine ends once its sockets are closed and its timers cancelled; stop() only bounds
  // the wait should one not have (its frame is then destroyed with the io_context).
  impl.work.reset();
  if (impl.ran.get_future().wait_for(std::chrono::seconds(2)) != std::future_status::ready) impl.io.stop();
  impl.thread.join();
}

std::uint16_t FaultInjector::port() const { return impl_->relay.port(); }

void FaultInjector::set_latency(Direction d, std::chrono::milliseconds latency, std::chrono::milliseconds jitter) {
  if (latency.count() < 0 || jitter.count() < 0) throw std::invalid_argument("latency and jitter must be >= 0");
  impl_->change(
      {{"port", port()}, {"direction", to_string(d)}, {"latency_ms", latency.count()}, {"jitter_ms", jitter.count()}},
      [&] {
        impl_->relay.set_direction(d, [&](DirectionFaults& f) {
          f.latency = latency;
          f.jitter = jitter;
        });
      });
}

void FaultInjector::set_bandwidth(Direction d, std::uint64_t bytes_per_second) {
  impl_->change({{"port", port()}, {"direction", to_string(d)}, {"bytes_per_second", bytes_per_second}}, [&] {
    impl_->relay.set_direction(d, [&](DirectionFaults& f) { f.bytes_per_second = bytes_per_second; });
  });
}

void FaultInjector::set_blackhole(bool on) {
  impl_->change({{"port", port()}, {"blackhole", on}}, [&] { impl_->relay.faults().blackhole = on; });
}

void FaultInjector::reset_peers() {
  impl_->change({{"port", port()}, {"reset_peers", true}}, [&] {
    ++impl_->relay.counters.resets;
    impl_->relay.close_every(true);
  });
}

void FaultInjector::close_all() {
  impl_->change({{"port", port()}, {"close_all", true}}, [&] {
    ++impl_->relay.counters.close_alls;
    impl_->relay.close_every(false);
  });
}

void FaultInjector::set_slow_close(std::chrono::milliseconds delay) {
  if (delay.count() < 0) throw std::invalid_argument("slow close delay must be >= 0");
  impl_->change({{"port", port()}, {"slow_close_ms", delay.count()}},
                [&] { impl_->relay.faults().slow_close = delay; });
}

void FaultInjector::kill() {
  impl_->change({{"port", port()}, {"kill", true}}, [&] {
    ++impl_->relay.counters.kills;
    impl_->relay.stop_listening();
    impl_->relay.close_every(false);
  });
}

void FaultInjector::restart() {
  impl_->change({{"port", port()}, {"restart", true}}, [&] {
    if (impl_->relay.listening()) return;
    ++impl_->relay.counters.restarts;
    if (auto ec = impl_->relay.restart()) log::warn("restart failed", {{"port", port()}, {"error", ec.message()}});
  });
}

void FaultInjector::clear() {
  impl_->change({{"port", port()}, {"clear", true}}, [&] { impl_->relay.faults() = detail::Faults{}; });
}

bool FaultInjector::listening() const {
  return impl_->run([&] { return impl_->relay.listening(); });
}
std::size_t FaultInjector::connection_count() const {
  return impl_->run([&] { return impl_->relay.connection_count(); });
}
nlohmann::json FaultInjector::state() const {
  return impl_->run([&] { return impl_->relay.state(); });
}

const char* to_string(Direction d) {
  switch (d) {
    case Direction::to_node:
      return "to_node";
    case Direction::to_client:
      return "to_client";
    case Direction::both:
      return "both";
  }
  return "?";
}

}  // namespace vixy::chaos
