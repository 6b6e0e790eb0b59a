#pragma once
// The scenario workload: WebSocket clients (subscriptions, requests from a method mix, probes,
// resubscriptions, planned reconnections) driven by one I/O thread, and an HTTP client thread.
// Every message each WebSocket connection sends and receives lands in its ConnectionHistory.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "chaos/history.hpp"
#include "chaos/scenario.hpp"

namespace vixy::chaos {

struct WorkloadCounters {
  std::atomic<std::uint64_t> requests{0};       // WebSocket requests sent
  std::atomic<std::uint64_t> answers{0};        // messages with an id received
  std::atomic<std::uint64_t> notifications{0};
  std::atomic<std::int64_t> outstanding{0};     // requests the clients still wait for
  std::atomic<std::uint64_t> connections{0};    // opened
  std::atomic<std::uint64_t> closed_by_peer{0};
  std::atomic<std::uint64_t> connect_failures{0};
  std::atomic<std::uint64_t> http_requests{0};
  std::atomic<std::uint64_t> http_errors{0};
  std::atomic<std::uint64_t> sse_streams{0};  // event streams opened (a 200 event-stream answer)
  std::atomic<std::uint64_t> sse_events{0};
};

class Workload_;  // the WebSocket side (workload.cpp)

class WorkloadRunner {
 public:
  // `burst_at_ms`: when (ms after start()) each client sends spec.fault_bursts requests at once.
  WorkloadRunner(const Workload& spec, std::uint16_t proxy_port, std::uint64_t seed, std::vector<int> burst_at_ms = {});
  ~WorkloadRunner();
  WorkloadRunner(const WorkloadRunner&) = delete;
  WorkloadRunner& operator=(const WorkloadRunner&) = delete;

  void start();
  // Clients stop issuing requests (answers and notifications are still recorded).
  void stop_sending();
  // Closes every client and joins the threads; histories() is valid afterwards.
  void finish();

  const WorkloadCounters& counters() const { return counters_; }
  const std::vector<ConnectionHistory>& histories() const { return histories_; }
  const std::vector<HttpSample>& http_samples() const { return http_samples_; }
  const std::vector<SseStreamHistory>& sse_histories() const { return sse_histories_; }
  // When the listeners stopped listening (valid after finish() when there were listeners).
  SteadyTime sse_stopped() const { return sse_stopped_; }

 private:
  void http_loop();
  void sse_loop(int listener);

  Workload spec_;
  std::uint16_t port_;
  std::uint64_t seed_;
  std::vector<int> burst_at_ms_;
  WorkloadCounters counters_;
  std::unique_ptr<Workload_> ws_;
  std::thread ws_thread_;
  std::thread http_thread_;
  bool finished_ = false;
  std::atomic<bool> sending_{false};
  std::vector<ConnectionHistory> histories_;
  std::vector<HttpSample> http_samples_;
  std::atomic<bool> listening_{false};
  std::vector<std::thread> sse_threads_;
  std::vector<std::vector<SseStreamHistory>> sse_per_listener_;  // each written by its own thread
  std::vector<SseStreamHistory> sse_histories_;
  SteadyTime sse_stopped_{};
};

}  // namespace vixy::chaos
