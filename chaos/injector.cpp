#include "chaos/injector.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <deque>
#include <functional>
#include <future>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>

#include "log/log.hpp"

namespace vixy::chaos {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using namespace asio::experimental::awaitable_operators;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadSize = 16 * 1024;
// A reader stops reading while this much is queued (latency, bandwidth): TCP back-pressure then
// reaches the sender instead of memory growing without bound.
constexpr std::size_t kMaxQueuedBytes = 1024 * 1024;
constexpr auto kConnectTimeout = std::chrono::seconds(5);

struct DirectionFaults {
  std::chrono::milliseconds latency{0};
  std::chrono::milliseconds jitter{0};
  std::uint64_t bytes_per_second = 0;
  nlohmann::json to_json() const {
    return {{"latency_ms", latency.count()}, {"jitter_ms", jitter.count()}, {"bytes_per_second", bytes_per_second}};
  }
};

struct Faults {
  DirectionFaults to_node, to_client;
  bool blackhole = false;
  std::chrono::milliseconds slow_close{0};
};

// A timer that never expires by itself: waiters wake when it is cancelled and re-check what they
// wait for. One thread runs everything, so a check followed by a wait cannot miss a wake-up.
struct Signal {
  explicit Signal(const asio::any_io_executor& ex) : timer(ex, Clock::time_point::max()) {}
  asio::awaitable<void> wait() { co_await timer.async_wait(use_tuple); }
  void notify() { timer.cancel(); }
  asio::steady_timer timer;
};

struct Chunk {
  enum class Kind { data, eof, error } kind = Kind::data;
  std::string bytes;
  Clock::time_point ready;
};

// One direction of a connection: what the reader has read and the writer has not yet written.
struct Pipe {
  explicit Pipe(const asio::any_io_executor& ex, bool towards_node) : to_node(towards_node), wake(ex), room(ex), delay(ex) {}
  bool to_node;
  std::deque<Chunk> queue;
  std::size_t queued_bytes = 0;
  Clock::time_point last_ready{};
  bool source_ended = false;  // the reader saw EOF or an error
  bool sink_dead = false;     // a write failed after the destination had closed: discard the rest
  bool done = false;          // the writer passed on the end
  Signal wake;                // something was queued
  Signal room;                // the queue shrank
  asio::steady_timer delay;   // latency, bandwidth and slow-close waits
};

struct Connection {
  Connection(asio::io_context& io, tcp::socket c)
      : client(std::move(c)), node(io), up(io.get_executor(), true), down(io.get_executor(), false) {}
  tcp::socket client;
  tcp::socket node;
  Pipe up;    // client -> node
  Pipe down;  // node -> client
  bool closed = false;
};
using ConnectionPtr = std::shared_ptr<Connection>;

void close_socket(tcp::socket& socket, bool reset) {
  if (!socket.is_open()) return;
  error_code ignored;
  if (reset) {
    socket.set_option(asio::socket_base::linger(true, 0), ignored);
  } else {
    socket.shutdown(tcp::socket::shutdown_both, ignored);
  }
  socket.close(ignored);
}

}  // namespace

struct FaultInjector::Impl {
  Impl(std::string host, std::uint16_t port_of_target, std::uint16_t listen_port)
      : target_host(std::move(host)), target_port(port_of_target), acceptor(io), change(io.get_executor()) {
    error_code ec;
    tcp::resolver resolver(io);
    auto results = resolver.resolve(target_host, std::to_string(target_port), ec);
    if (ec) throw std::runtime_error("cannot resolve target " + target_host + ": " + ec.message());
    for (const auto& entry : results) targets.push_back(entry.endpoint());
    if (auto bind_error = open_listener(listen_port)) {
      throw std::runtime_error("cannot listen on 127.0.0.1:" + std::to_string(listen_port) + ": " +
                               bind_error.message());
    }
  }

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

  error_code open_listener(std::uint16_t at) {
    error_code ec;
    tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), at);
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) port = acceptor.local_endpoint(ec).port();
    if (ec) {
      error_code ignored;
      acceptor.close(ignored);
      return ec;
    }
    asio::co_spawn(io, accept_loop(++generation), asio::detached);
    return {};
  }

  // A loop from before a kill must not survive a quick restart: the generation tells it apart.
  asio::awaitable<void> accept_loop(std::uint64_t mine) {
    while (acceptor.is_open() && mine == generation) {
      auto [ec, socket] = co_await acceptor.async_accept(use_tuple);
      if (mine != generation) break;
      if (ec) {
        if (!acceptor.is_open()) break;
        continue;  // e.g. the client gave up before we accepted it
      }
      ++accepted;
      auto connection = std::make_shared<Connection>(io, std::move(socket));
      connections.insert(connection);
      count = connections.size();
      asio::co_spawn(io, relay(connection), asio::detached);
    }
  }

  asio::awaitable<void> relay(ConnectionPtr c) {
    if (faults.blackhole) {
      co_await sink(c);
      co_return;
    }
    asio::steady_timer timeout(io, kConnectTimeout);
    timeout.async_wait([c](const error_code& ec) {
      if (!ec) c->node.close();
    });
    auto [ec, endpoint] = co_await asio::async_connect(c->node, targets, use_tuple);
    (void)endpoint;
    timeout.cancel();
    if (c->closed) co_return;
    if (ec) {
      ++connect_failures;
      log::info("upstream connect failed", {{"target", target()}, {"error", ec.message()}});
      finish(c, false);
      co_return;
    }
    co_await ((read_loop(c, c->client, c->up) && write_loop(c, c->node, c->up)) &&
              (read_loop(c, c->node, c->down) && write_loop(c, c->client, c->down)));
    finish(c, false);
  }

  // A connection accepted during a blackhole: read and discard until the blackhole ends.
  asio::awaitable<void> sink(ConnectionPtr c) {
    std::string buffer(kReadSize, '\0');
    bool client_ended = false;
    while (!c->closed && faults.blackhole) {
      if (client_ended) {
        co_await change.wait();
        continue;
      }
      auto outcome = co_await (c->client.async_read_some(asio::buffer(buffer), use_tuple) || change.wait());
      if (outcome.index() != 0) continue;
      auto [ec, n] = std::get<0>(outcome);
      bytes_blackholed += n;
      if (ec == asio::error::eof) client_ended = true;
      else if (ec) break;
    }
    finish(c, false);
  }

  asio::awaitable<void> read_loop(ConnectionPtr c, tcp::socket& source, Pipe& pipe) {
    std::string buffer(kReadSize, '\0');
    while (!c->closed) {
      if (pipe.queued_bytes >= kMaxQueuedBytes) {
        co_await pipe.room.wait();
        continue;
      }
      auto [ec, n] = co_await source.async_read_some(asio::buffer(buffer), use_tuple);
      if (c->closed) break;
      if (ec) {
        pipe.source_ended = true;
        push(pipe, Chunk{ec == asio::error::eof ? Chunk::Kind::eof : Chunk::Kind::error, {}, Clock::now()});
        break;
      }
      if (faults.blackhole) {
        bytes_blackholed += n;
        continue;
      }
      const DirectionFaults& f = pipe.to_node ? faults.to_node : faults.to_client;
      auto delay = f.latency;
      if (f.jitter.count() > 0) {
        std::uniform_int_distribution<long> spread(-f.jitter.count(), f.jitter.count());
        delay = std::max(std::chrono::milliseconds(0), delay + std::chrono::milliseconds(spread(random)));
      }
      push(pipe, Chunk{Chunk::Kind::data, buffer.substr(0, n), Clock::now() + delay});
    }
  }

  void push(Pipe& pipe, Chunk chunk) {
    // Jitter may give a chunk an earlier time than its predecessor; order wins over jitter.
    chunk.ready = std::max(chunk.ready, pipe.last_ready);
    pipe.last_ready = chunk.ready;
    pipe.queued_bytes += chunk.bytes.size();
    pipe.queue.push_back(std::move(chunk));
    pipe.wake.notify();
  }

  asio::awaitable<bool> sleep_until(ConnectionPtr c, Pipe& pipe, Clock::time_point when) {
    if (when > Clock::now()) {
      pipe.delay.expires_at(when);
      co_await pipe.delay.async_wait(use_tuple);
    }
    co_return !c->closed;
  }

  asio::awaitable<void> write_loop(ConnectionPtr c, tcp::socket& sink_socket, Pipe& pipe) {
    while (!c->closed) {
      if (pipe.queue.empty()) {
        co_await pipe.wake.wait();
        continue;
      }
      Chunk chunk = std::move(pipe.queue.front());
      pipe.queue.pop_front();
      pipe.queued_bytes -= chunk.bytes.size();
      pipe.room.notify();
      if (!co_await sleep_until(c, pipe, chunk.ready)) co_return;
      if (chunk.kind != Chunk::Kind::data) {
        co_await pass_end(c, sink_socket, pipe, chunk.kind == Chunk::Kind::error);
        co_return;
      }
      if (!co_await write_chunk(c, sink_socket, pipe, chunk.bytes)) co_return;
    }
  }

  // Writes one chunk, sliced and paced when the direction has a bandwidth limit. False when the
  // connection is over.
  asio::awaitable<bool> write_chunk(ConnectionPtr c, tcp::socket& sink_socket, Pipe& pipe, const std::string& bytes) {
    std::size_t offset = 0;
    while (offset < bytes.size()) {
      if (faults.blackhole || pipe.sink_dead) co_return true;  // dropped, as the blackhole promises
      std::uint64_t rate = (pipe.to_node ? faults.to_node : faults.to_client).bytes_per_second;
      std::size_t slice = bytes.size() - offset;
      if (rate > 0) {
        // Slices of about 50 ms each, and the pause before the slice: N bytes never take less than N/rate.
        slice = std::min<std::size_t>(slice, std::max<std::uint64_t>(1, rate / 20));
        auto pause = std::chrono::nanoseconds(static_cast<std::int64_t>(slice * 1'000'000'000ULL / rate));
        if (!co_await sleep_until(c, pipe, Clock::now() + pause)) co_return false;
        if (faults.blackhole) co_return true;
      }
      auto [ec, n] = co_await asio::async_write(sink_socket, asio::buffer(bytes.data() + offset, slice), use_tuple);
      if (c->closed) co_return false;
      if (ec) {
        Pipe& reverse = pipe.to_node ? c->down : c->up;
        // The destination already closed its side: the other direction passes that on (slowly,
        // perhaps); here the rest is discarded. Otherwise the peer vanished: reset the other side.
        if (reverse.source_ended) {
          pipe.sink_dead = true;
          co_return true;
        }
        abort(c);
        co_return false;
      }
      offset += n;
      (pipe.to_node ? bytes_to_node : bytes_to_client) += n;
    }
    co_return true;
  }

  // The source closed (or failed): pass that on to the destination, unless a blackhole holds it.
  asio::awaitable<void> pass_end(ConnectionPtr c, tcp::socket& sink_socket, Pipe& pipe, bool failed) {
    while (!c->closed && faults.blackhole) co_await change.wait();
    if (c->closed) co_return;
    if (!pipe.to_node && faults.slow_close.count() > 0) {
      if (!co_await sleep_until(c, pipe, Clock::now() + faults.slow_close)) co_return;
    }
    if (failed) {
      abort(c);
      co_return;
    }
    error_code ignored;
    sink_socket.shutdown(tcp::socket::shutdown_send, ignored);
    pipe.done = true;
  }

  void forget(const ConnectionPtr& c) {
    c->closed = true;
    for (Pipe* p : {&c->up, &c->down}) {
      p->wake.notify();
      p->room.notify();
      p->delay.cancel();
    }
    change.notify();
    connections.erase(c);
    count = connections.size();
  }

  void finish(const ConnectionPtr& c, bool reset) {
    if (c->closed) return;
    close_socket(c->client, reset);
    close_socket(c->node, reset);
    forget(c);
  }
  void abort(const ConnectionPtr& c) { finish(c, true); }

  void close_every(bool reset) {
    auto all = connections;
    for (const auto& c : all) finish(c, reset);
  }

  void set_faults(Direction d, const std::function<void(DirectionFaults&)>& change_one) {
    if (d != Direction::to_client) change_one(faults.to_node);
    if (d != Direction::to_node) change_one(faults.to_client);
    change.notify();
  }

  std::string target() const { return target_host + ":" + std::to_string(target_port); }

  nlohmann::json state() const {
    nlohmann::json out{
        {"listening", acceptor.is_open()},
        {"port", port},
        {"target", target()},
        {"connections", connections.size()},
        {"faults",
         {{"to_node", faults.to_node.to_json()},
          {"to_client", faults.to_client.to_json()},
          {"blackhole", faults.blackhole},
          {"slow_close_ms", faults.slow_close.count()}}},
        {"counters",
         {{"accepted", accepted},
          {"upstream_connect_failures", connect_failures},
          {"bytes_to_node", bytes_to_node},
          {"bytes_to_client", bytes_to_client},
          {"bytes_blackholed", bytes_blackholed},
          {"resets", resets},
          {"close_alls", close_alls},
          {"kills", kills},
          {"restarts", restarts}}}};
    if (!last_error.empty()) out["error"] = last_error;
    return out;
  }

  asio::io_context io{1};
  // Keeps run() going while nothing listens (after kill) so that later calls still get served.
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::uint64_t generation = 0;
  std::promise<void> ran;
  std::string target_host;
  std::uint16_t target_port;
  std::vector<tcp::endpoint> targets;
  tcp::acceptor acceptor;
  std::uint16_t port = 0;
  Signal change;  // a fault changed or a connection ended
  Faults faults;
  std::set<ConnectionPtr> connections;
  std::atomic<std::size_t> count{0};
  std::atomic<bool> is_listening{true};
  std::mt19937 random{std::random_device{}()};
  std::string last_error;
  std::uint64_t accepted = 0, connect_failures = 0, bytes_to_node = 0, bytes_to_client = 0, bytes_blackholed = 0;
  std::uint64_t resets = 0, close_alls = 0, kills = 0, restarts = 0;
  std::thread thread;
};

FaultInjector::FaultInjector(std::string target_host, std::uint16_t target_port, std::uint16_t listen_port)
    : impl_(std::make_shared<Impl>(std::move(target_host), target_port, listen_port)) {
  impl_->thread = std::thread([impl = impl_.get()] {
    impl->io.run();
    impl->ran.set_value();
  });
  log::info("injector started", {{"port", impl_->port}, {"target", impl_->target()}});
}

FaultInjector::~FaultInjector() {
  Impl& impl = *impl_;
  impl.run([&] {
    error_code ignored;
    impl.acceptor.close(ignored);
    impl.close_every(true);
  });
  // Every coroutine ends once its sockets are closed and its timers cancelled; stop() only bounds
  // the wait should one not have (its frame is then destroyed with the io_context).
  impl.work.reset();
  if (impl.ran.get_future().wait_for(std::chrono::seconds(2)) != std::future_status::ready) impl.io.stop();
  impl.thread.join();
}

std::uint16_t FaultInjector::port() const { return impl_->port; }

void FaultInjector::set_latency(Direction d, std::chrono::milliseconds latency, std::chrono::milliseconds jitter) {
  if (latency.count() < 0 || jitter.count() < 0) throw std::invalid_argument("latency and jitter must be >= 0");
  impl_->run([&] {
    impl_->set_faults(d, [&](DirectionFaults& f) {
      f.latency = latency;
      f.jitter = jitter;
    });
    log::info("fault", {{"port", impl_->port}, {"latency_ms", latency.count()}, {"jitter_ms", jitter.count()},
                        {"direction", to_string(d)}});
  });
}

void FaultInjector::set_bandwidth(Direction d, std::uint64_t bytes_per_second) {
  impl_->run([&] {
    impl_->set_faults(d, [&](DirectionFaults& f) { f.bytes_per_second = bytes_per_second; });
    log::info("fault", {{"port", impl_->port}, {"bytes_per_second", bytes_per_second}, {"direction", to_string(d)}});
  });
}

void FaultInjector::set_blackhole(bool on) {
  impl_->run([&] {
    impl_->faults.blackhole = on;
    impl_->change.notify();
    log::info("fault", {{"port", impl_->port}, {"blackhole", on}});
  });
}

void FaultInjector::reset_peers() {
  impl_->run([&] {
    ++impl_->resets;
    log::info("fault", {{"port", impl_->port}, {"reset_peers", impl_->connections.size()}});
    impl_->close_every(true);
  });
}

void FaultInjector::close_all() {
  impl_->run([&] {
    ++impl_->close_alls;
    log::info("fault", {{"port", impl_->port}, {"close_all", impl_->connections.size()}});
    impl_->close_every(false);
  });
}

void FaultInjector::set_slow_close(std::chrono::milliseconds delay) {
  if (delay.count() < 0) throw std::invalid_argument("slow close delay must be >= 0");
  impl_->run([&] {
    impl_->faults.slow_close = delay;
    log::info("fault", {{"port", impl_->port}, {"slow_close_ms", delay.count()}});
  });
}

void FaultInjector::kill() {
  impl_->run([&] {
    ++impl_->kills;
    error_code ignored;
    impl_->acceptor.close(ignored);
    impl_->is_listening = false;
    impl_->close_every(false);
    log::info("fault", {{"port", impl_->port}, {"kill", true}});
  });
}

void FaultInjector::restart() {
  impl_->run([&] {
    if (impl_->acceptor.is_open()) return;
    ++impl_->restarts;
    auto ec = impl_->open_listener(impl_->port);
    impl_->last_error = ec ? "restart: " + ec.message() : "";
    impl_->is_listening = !ec;
    log::info("fault", {{"port", impl_->port}, {"restart", ec ? ec.message() : "ok"}});
  });
}

void FaultInjector::clear() {
  impl_->run([&] {
    impl_->faults = Faults{};
    impl_->change.notify();
    log::info("fault", {{"port", impl_->port}, {"clear", true}});
  });
}

bool FaultInjector::listening() const { return impl_->is_listening; }
std::size_t FaultInjector::connection_count() const { return impl_->count; }
nlohmann::json FaultInjector::state() const {
  return impl_->run([&] { return impl_->state(); });
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
