#include "server/process_signals.hpp"

#include <pthread.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace vixy::server {

ProcessSignals::ProcessSignals() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGTERM);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGHUP);
  if (int error = pthread_sigmask(SIG_BLOCK, &set_, nullptr); error != 0) {
    throw std::runtime_error(std::string("cannot block SIGTERM, SIGINT and SIGHUP: ") + std::strerror(error));
  }
}

ProcessSignals::~ProcessSignals() { stop(); }

void ProcessSignals::stop() {
  if (!waiter_.joinable()) return;
  stopping_ = true;
  // Directed at the waiter, which has it blocked: sigwait() returns it instead of the default action.
  pthread_kill(waiter_.native_handle(), SIGTERM);
  waiter_.join();
}

void ProcessSignals::start(std::function<void(int)> on_signal) {
  waiter_ = std::thread([this, on_signal = std::move(on_signal)] {
    while (true) {
      int signal_number = 0;
      if (sigwait(&set_, &signal_number) != 0) continue;
      if (stopping_) return;
      on_signal(signal_number);
    }
  });
}

}  // namespace vixy::server
