#pragma once
// Hostile clients beside the well-behaved workload (ARCHITECTURE §7: hostile input is the normal
// case): WebSocket clients that subscribe and never read, deeply nested JSON and huge batches over
// POST /el and WebSocket, idle TCP connections, and a flood of connections opened and closed.
// They run on threads of their own, no invariant judges what they get (the well-behaved clients'
// invariants say whether they reached anyone else), and the report counts their outcomes.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chaos/scenario.hpp"

namespace vixy::chaos {

namespace hostile_detail {
struct HostileIo;
}

struct HostileReport {
  // group -> outcome (in words, e.g. "http: HTTP 400, error -32600") -> count. Groups: "slow
  // readers", "nested JSON", "huge batches", "idle connections", "connection flood".
  std::map<std::string, std::map<std::string, std::uint64_t>> outcomes;
  // Per slow reader the proxy closed: from its handshake to the first write that failed.
  std::vector<double> slow_reader_closed_after_ms;
};

class HostileRunner {
 public:
  HostileRunner(const HostileWorkload& spec, std::uint16_t proxy_port);
  ~HostileRunner();
  HostileRunner(const HostileRunner&) = delete;
  HostileRunner& operator=(const HostileRunner&) = delete;

  void start();
  // No new attacks from now on; answers to the ones in flight are still counted.
  void stop_attacking();
  // Closes every hostile connection and joins the threads; report() is complete afterwards.
  void finish();

  HostileReport report() const;
  std::string summary() const;  // one line for the progress output

  // Counts one outcome (thread-safe; the clients call it from their threads).
  void tally(const std::string& group, const std::string& outcome);
  void slow_reader_closed(double after_ms);

 private:
  void http_loop();

  HostileWorkload spec_;
  std::uint16_t port_;
  // The WebSocket and TCP clients, on one io_context thread (chaos/hostile_clients.hpp).
  std::unique_ptr<hostile_detail::HostileIo> io_;
  std::thread io_thread_;
  std::thread http_thread_;
  std::atomic<bool> attacking_{false};
  std::mutex pace_mutex_;
  std::condition_variable pace_;
  bool finished_ = false;
  mutable std::mutex mutex_;
  HostileReport report_;
};

}  // namespace vixy::chaos
