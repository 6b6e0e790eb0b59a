#include "chaos/injector_relay.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <stdexcept>

#include "log/log.hpp"
#include "net/stable_port.hpp"
#include "net/awaitable.hpp"

namespace vixy::chaos::detail {
namespace {

using namespace asio::experimental::awaitable_operators;
constexpr std::size_t kReadSize = 16 * 1024;
// A reader stops reading while this much is queued (latency, bandwidth): TCP back-pressure then
// reaches the sender instead of memory growing without bound.
constexpr std::size_t kMaxQueuedBytes = 1024 * 1024;
constexpr auto kConnectTimeout = std::chrono::seconds(5);

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

nlohmann::json DirectionFaults::to_json() const {
  return {{"latency_ms", latency.count()}, {"jitter_ms", jitter.count()}, {"bytes_per_second", bytes_per_second}};
}

asio::awaitable<void> Signal::wait() { co_await timer.async_wait(use_tuple); }

Relay::Relay(asio::io_context& io, std::string target_host, std::uint16_t target_port, std::uint16_t listen_port)
    : io_(io),
      target_host_(std::move(target_host)),
      target_port_(target_port),
      acceptor_(io),
      change_(io.get_executor()) {
  error_code ec;
  tcp::resolver resolver(io_);
  auto results = resolver.resolve(target_host_, std::to_string(target_port_), ec);
  if (ec) throw std::runtime_error("cannot resolve target " + target_host_ + ": " + ec.message());
  for (const auto& entry : results) targets_.push_back(entry.endpoint());
  // The port outlives kill/restart, so a chosen one must be outside the ephemeral range.
  auto open_at = [this](std::uint16_t port) { return open_listener(port); };
  auto bind_error = listen_port == 0 ? net::bind_stable_port(open_at) : open_listener(listen_port);
  if (bind_error) {
    throw std::runtime_error("cannot listen on 127.0.0.1:" + std::to_string(listen_port) + ": " + bind_error.message());
  }
}

void Relay::stop_listening() {
  error_code ignored;
  acceptor_.close(ignored);
}

error_code Relay::restart() {
  if (acceptor_.is_open()) return {};
  auto ec = open_listener(port_);
  last_error_ = ec ? "restart: " + ec.message() : "";
  return ec;
}

error_code Relay::open_listener(std::uint16_t at) {
  error_code ec;
  tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), at);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) port_ = acceptor_.local_endpoint(ec).port();
  if (ec) {
    error_code ignored;
    acceptor_.close(ignored);
    return ec;
  }
  asio::co_spawn(io_, accept_loop(++generation_), log::report_exception("injector accept loop"));
  return {};
}

// A loop from before a kill must not survive a quick restart: the generation_ tells it apart.
asio::awaitable<void> Relay::accept_loop(std::uint64_t mine) {
  while (acceptor_.is_open() && mine == generation_) {
    auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
    if (mine != generation_) break;
    if (ec) {
      if (!acceptor_.is_open()) break;
      continue;  // e.g. the client gave up before we counters.accepted it
    }
    ++counters.accepted;
    error_code ignored;
    // Small messages (JSON-RPC) must not wait for Nagle: the only delays are the injected ones.
    socket.set_option(tcp::no_delay(true), ignored);
    auto connection = std::make_shared<Connection>(io_, std::move(socket));
    connections_.insert(connection);
    asio::co_spawn(io_, relay(connection), log::report_exception("injector relay"));
  }
}

asio::awaitable<void> Relay::relay(ConnectionPtr c) {
  if (faults_.blackhole) {
    co_await sink(c);
    co_return;
  }
  asio::steady_timer timeout(io_, kConnectTimeout);
  timeout.async_wait([c](const error_code& ec) {
    if (!ec) c->node.close();
  });
  auto [ec, endpoint] = co_await asio::async_connect(c->node, targets_, use_tuple);
  (void)endpoint;
  timeout.cancel();
  if (c->closed) co_return;
  error_code ignored;
  c->node.set_option(tcp::no_delay(true), ignored);
  if (ec) {
    ++counters.upstream_connect_failures;
    log::info("upstream connect failed", {{"target", target()}, {"error", ec.message()}});
    finish(c, false);
    co_return;
  }
  co_await ((read_loop(c, c->client, c->up) && write_loop(c, c->node, c->up)) &&
            (read_loop(c, c->node, c->down) && write_loop(c, c->client, c->down)));
  finish(c, false);
}

// A connection counters.accepted during a blackhole: read and discard until the blackhole ends.
asio::awaitable<void> Relay::sink(ConnectionPtr c) {
  std::string buffer(kReadSize, '\0');
  bool client_ended = false;
  while (!c->closed && faults_.blackhole) {
    if (client_ended) {
      co_await change_.wait();
      continue;
    }
    auto outcome = co_await (c->client.async_read_some(asio::buffer(buffer), use_tuple) || change_.wait());
    if (outcome.index() != 0) continue;
    auto [ec, n] = std::get<0>(outcome);
    counters.bytes_blackholed += n;
    if (ec == asio::error::eof) {
      client_ended = true;  // half-open: keep the connection until the blackhole ends
    } else if (ec) {
      break;
    }
  }
  finish(c, false);
}

asio::awaitable<void> Relay::read_loop(ConnectionPtr c, tcp::socket& source, Pipe& pipe) {
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
    if (faults_.blackhole) {
      counters.bytes_blackholed += n;
      continue;
    }
    const DirectionFaults& f = pipe.to_node ? faults_.to_node : faults_.to_client;
    auto delay = f.latency;
    if (f.jitter.count() > 0) {
      std::uniform_int_distribution<long> spread(-f.jitter.count(), f.jitter.count());
      delay = std::max(std::chrono::milliseconds(0), delay + std::chrono::milliseconds(spread(random_)));
    }
    push(pipe, Chunk{Chunk::Kind::data, buffer.substr(0, n), Clock::now() + delay});
  }
}

void Relay::push(Pipe& pipe, Chunk chunk) {
  // Jitter may give a chunk an earlier time than its predecessor; order wins over jitter.
  chunk.ready = std::max(chunk.ready, pipe.last_ready);
  pipe.last_ready = chunk.ready;
  pipe.queued_bytes += chunk.bytes.size();
  pipe.queue.push_back(std::move(chunk));
  pipe.wake.notify();
}

asio::awaitable<bool> Relay::sleep_until(ConnectionPtr c, Pipe& pipe, Clock::time_point when) {
  if (when > Clock::now()) {
    pipe.delay.expires_at(when);
    co_await pipe.delay.async_wait(use_tuple);
  }
  co_return !c->closed;
}

asio::awaitable<void> Relay::write_loop(ConnectionPtr c, tcp::socket& sink_socket, Pipe& pipe) {
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
asio::awaitable<bool> Relay::write_chunk(ConnectionPtr c, tcp::socket& sink_socket, Pipe& pipe,
                                         const std::string& bytes) {
  std::size_t offset = 0;
  while (offset < bytes.size()) {
    if (faults_.blackhole || pipe.sink_dead) co_return true;  // dropped, as the blackhole promises
    std::uint64_t rate = (pipe.to_node ? faults_.to_node : faults_.to_client).bytes_per_second;
    std::size_t slice = bytes.size() - offset;
    if (rate > 0) {
      // Slices of about 50 ms each, and the pause before the slice: N bytes never take less than N/rate.
      slice = std::min<std::size_t>(slice, std::max<std::uint64_t>(1, rate / 20));
      auto pause = std::chrono::nanoseconds(static_cast<std::int64_t>(slice * 1'000'000'000ULL / rate));
      if (!co_await sleep_until(c, pipe, Clock::now() + pause)) co_return false;
      if (faults_.blackhole) co_return true;
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
    (pipe.to_node ? counters.bytes_to_node : counters.bytes_to_client) += n;
  }
  co_return true;
}

// The source closed (or failed): pass that on to the destination, unless a blackhole holds it.
asio::awaitable<void> Relay::pass_end(ConnectionPtr c, tcp::socket& sink_socket, Pipe& pipe, bool failed) {
  while (!c->closed && faults_.blackhole) co_await change_.wait();
  if (c->closed) co_return;
  if (!pipe.to_node && faults_.slow_close.count() > 0) {
    if (!co_await sleep_until(c, pipe, Clock::now() + faults_.slow_close)) co_return;
  }
  if (failed) {
    abort(c);
    co_return;
  }
  error_code ignored;
  sink_socket.shutdown(tcp::socket::shutdown_send, ignored);
}

// Closes both sides and wakes every coroutine of the connection so that each sees it is over.
void Relay::finish(const ConnectionPtr& c, bool reset) {
  if (c->closed) return;
  close_socket(c->client, reset);
  close_socket(c->node, reset);
  c->closed = true;
  for (Pipe* p : {&c->up, &c->down}) {
    p->wake.notify();
    p->room.notify();
    p->delay.cancel();
  }
  change_.notify();
  connections_.erase(c);
}

void Relay::close_every(bool reset) {
  auto all = connections_;
  for (const auto& c : all) finish(c, reset);
}

void Relay::set_direction(Direction d, const std::function<void(DirectionFaults&)>& change_one) {
  if (d != Direction::to_client) change_one(faults_.to_node);
  if (d != Direction::to_node) change_one(faults_.to_client);
  change_.notify();
}

std::string Relay::target() const { return target_host_ + ":" + std::to_string(target_port_); }

nlohmann::json Relay::state() const {
  nlohmann::json out{{"listening", acceptor_.is_open()},
                     {"port", port_},
                     {"target", target()},
                     {"connections", connections_.size()},
                     {"faults",
                      {{"to_node", faults_.to_node.to_json()},
                       {"to_client", faults_.to_client.to_json()},
                       {"blackhole", faults_.blackhole},
                       {"slow_close_ms", faults_.slow_close.count()}}},
                     {"counters",
                      {{"accepted", counters.accepted},
                       {"upstream_connect_failures", counters.upstream_connect_failures},
                       {"bytes_to_node", counters.bytes_to_node},
                       {"bytes_to_client", counters.bytes_to_client},
                       {"bytes_blackholed", counters.bytes_blackholed},
                       {"resets", counters.resets},
                       {"close_alls", counters.close_alls},
                       {"kills", counters.kills},
                       {"restarts", counters.restarts}}}};
  if (!last_error_.empty()) out["error"] = last_error_;
  return out;
}

}  // namespace vixy::chaos::detail
