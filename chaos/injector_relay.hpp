#pragma once
// The fault injector's relay: everything that runs on the injector's thread (listener,
// connections, the two pipes of each connection, faults and counters). Only chaos/injector.cpp
// uses it; FaultInjector is the thread-safe face.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chaos/injector.hpp"

namespace vixy::chaos::detail {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

struct DirectionFaults {
  std::chrono::milliseconds latency{0};
  std::chrono::milliseconds jitter{0};
  std::uint64_t bytes_per_second = 0;
  nlohmann::json to_json() const;
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
  asio::awaitable<void> wait();
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
  explicit Pipe(const asio::any_io_executor& ex, bool towards_node)
      : to_node(towards_node), wake(ex), room(ex), delay(ex) {}
  bool to_node;
  std::deque<Chunk> queue;
  std::size_t queued_bytes = 0;
  Clock::time_point last_ready{};
  bool source_ended = false;  // the reader saw EOF or an error
  bool sink_dead = false;     // a write failed after the destination had closed: discard the rest
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

class Relay {
 public:
  // Resolves the target and listens; throws std::runtime_error when either fails.
  Relay(asio::io_context& io, std::string target_host, std::uint16_t target_port, std::uint16_t listen_port);

  std::uint16_t port() const { return port_; }
  bool listening() const { return acceptor_.is_open(); }
  std::size_t connection_count() const { return connections_.size(); }
  std::string target() const;

  Faults& faults() { return faults_; }
  void set_direction(Direction d, const std::function<void(DirectionFaults&)>& change);
  void faults_changed() { change_.notify(); }
  void close_every(bool reset);
  void stop_listening();
  error_code restart();
  nlohmann::json state() const;

  struct Counters {
    std::uint64_t accepted = 0, upstream_connect_failures = 0, bytes_to_node = 0, bytes_to_client = 0,
                  bytes_blackholed = 0, resets = 0, close_alls = 0, kills = 0, restarts = 0;
  } counters;

 private:
  error_code open_listener(std::uint16_t at);
  asio::awaitable<void> accept_loop(std::uint64_t generation);
  asio::awaitable<void> relay(ConnectionPtr c);
  asio::awaitable<void> sink(ConnectionPtr c);
  asio::awaitable<void> read_loop(ConnectionPtr c, tcp::socket& source, Pipe& pipe);
  void push(Pipe& pipe, Chunk chunk);
  asio::awaitable<bool> sleep_until(ConnectionPtr c, Pipe& pipe, Clock::time_point when);
  asio::awaitable<void> write_loop(ConnectionPtr c, tcp::socket& sink_socket, Pipe& pipe);
  asio::awaitable<bool> write_chunk(ConnectionPtr c, tcp::socket& sink_socket, Pipe& pipe, const std::string& bytes);
  asio::awaitable<void> pass_end(ConnectionPtr c, tcp::socket& sink_socket, Pipe& pipe, bool failed);
  void finish(const ConnectionPtr& c, bool reset);
  void abort(const ConnectionPtr& c) { finish(c, true); }

  asio::io_context& io_;
  std::string target_host_;
  std::uint16_t target_port_;
  std::vector<tcp::endpoint> targets_;
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::uint64_t generation_ = 0;  // of the accept loop; a restart starts a new one
  Signal change_;                 // a fault changed or a connection ended
  Faults faults_;
  std::set<ConnectionPtr> connections_;
  std::mt19937 random_{std::random_device{}()};
  std::string last_error_;
};

}  // namespace vixy::chaos::detail
