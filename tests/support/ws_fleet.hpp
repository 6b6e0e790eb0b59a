#pragma once
// Many WebSocket clients on one io_context, for the scale tests: a thousand chaos::WsClient would
// each need their own context run in turn, while here every connection reads all the time and the
// caller just runs the context until a condition over everything received holds.

#include <chrono>
#include <cstdint>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace vixy::testing {

class WsFleet {
 public:
  explicit WsFleet(std::size_t size);
  ~WsFleet();
  WsFleet(const WsFleet&) = delete;
  WsFleet& operator=(const WsFleet&) = delete;

  std::size_t size() const;
  // Opens every connection, `batch` at a time (each batch's handshakes done before the next
  // starts, so the server is not hit by all at once); the number that completed the handshake.
  std::size_t connect_all(std::uint16_t port, const std::string& target, std::chrono::milliseconds timeout,
                          std::size_t batch = SIZE_MAX);
  // Queues a text message on connection `i`; it is written (in order) while run_until runs.
  void send(std::size_t i, std::string text);
  // Runs the clients until `done()` holds (checked after every completion); false on timeout.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  // Every text message connection `i` received, in order.
  const std::vector<std::string>& received(std::size_t i) const;
  std::size_t closed_count() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Raises this process's open-file soft limit to its hard limit; children inherit it.
void raise_open_file_limit();

}  // namespace vixy::testing
