#pragma once
// A TCP relay in front of one upstream (fake or real node) whose faults are switched at run time,
// in the spirit of Toxiproxy: latency and jitter, bandwidth limit, blackhole, reset, close, slow
// close, kill (refuse) and restart. It runs its own io_context on its own thread; every method may
// be called from any thread and has taken effect when it returns.
//
// Bytes of one direction are relayed in the order they were read: latency delays a chunk, jitter
// varies the delay, but a chunk is never sent before the one read ahead of it.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace vixy::chaos {

enum class Direction { to_node, to_client, both };  // to_node: client->node bytes

class FaultInjector {
 public:
  // Listens on 127.0.0.1:listen_port (0: the system picks) and relays each accepted connection to
  // target. Throws std::runtime_error when the port cannot be bound or the target not resolved.
  FaultInjector(std::string target_host, std::uint16_t target_port, std::uint16_t listen_port = 0);
  ~FaultInjector();  // stops the thread, closes every socket
  FaultInjector(const FaultInjector&) = delete;
  FaultInjector& operator=(const FaultInjector&) = delete;

  std::uint16_t port() const;  // the listening port (stable across kill/restart)

  // Applies to bytes read from now on. Each chunk waits latency ± jitter (never below zero).
  void set_latency(Direction d, std::chrono::milliseconds latency, std::chrono::milliseconds jitter = {});
  void set_bandwidth(Direction d, std::uint64_t bytes_per_second);  // 0 = unlimited
  // Accept and read, never forward anything, not even a close (half-open upstream). Connections
  // accepted while it is on never reach the node and are closed when it is switched off.
  void set_blackhole(bool on);
  void reset_peers();  // RST every current connection (both sides)
  void close_all();    // orderly close of every current connection
  // On node-side close, wait this long before closing the client side.
  void set_slow_close(std::chrono::milliseconds delay);
  void kill();     // close listener and all connections: new connections are refused
  void restart();  // listen again on the same port (no-op when listening); see state()["error"]
  void clear();    // every fault off (does not restart)

  bool listening() const;
  std::size_t connection_count() const;
  nlohmann::json state() const;  // faults + counters, for reports and the control API

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

const char* to_string(Direction d);

}  // namespace vixy::chaos
