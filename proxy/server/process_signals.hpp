#pragma once
// SIGTERM and SIGINT (shut down) and SIGHUP (reload), taken by one thread of their own with sigwait().
//
// A handler-based wait (asio::signal_set) runs its handler on whichever thread the kernel picks,
// the upstream resolver's included. Under ThreadSanitizer, whose handlers defer a signal that lands
// outside a blocking call, one SIGINT in about 75 was lost that way under load: vixy never shut
// down. Blocked in every thread and taken synchronously by one, no signal is lost or interrupts a
// worker, whatever the thread count.

#include <atomic>
#include <csignal>
#include <functional>
#include <thread>

namespace vixy::server {

class ProcessSignals {
 public:
  // Blocks SIGTERM, SIGINT and SIGHUP in the calling thread and so in every thread created after it:
  // construct it before any thread exists. A signal that arrives from then on waits, pending, for
  // start(). They stay blocked after destruction: the process is ending, and a late SIGTERM must
  // not turn a clean exit into a killed one.
  ProcessSignals();
  ~ProcessSignals();
  ProcessSignals(const ProcessSignals&) = delete;
  ProcessSignals& operator=(const ProcessSignals&) = delete;

  // Calls on_signal(number) on the waiting thread for every signal, until stop().
  void start(std::function<void(int)> on_signal);
  // Returns once on_signal has run for the last time. Idempotent; the destructor calls it.
  void stop();

 private:
  sigset_t set_{};
  std::atomic<bool> stopping_{false};
  std::thread waiter_;
};

}  // namespace vixy::server
