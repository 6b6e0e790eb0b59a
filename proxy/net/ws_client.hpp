#pragma once
// The one WebSocket client in the tree, plain (ws://) or TLS (wss://): the proxy's connection to
// an EL node, and under the harness's, tests' and load generator's clients. Only ws_client.cpp
// instantiates Beast's WebSocket templates (the costliest code to compile), so the header has no
// templates and no Beast WebSocket types. One object is one connection: connect once.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/error.hpp>

#include "net/upstream_url.hpp"

namespace vixy::net {

struct WsClientOptions {
  std::chrono::milliseconds connect_timeout{2000};  // resolve, TCP, TLS and the handshake together
  // Nothing received this long: the pending read fails (Beast pings at half of it). Zero: no
  // limit and no pings, for clients that must see only the frames they caused.
  std::chrono::milliseconds idle_timeout{10'000};
  // A write not done this long closes the connection (error beast::error::timeout). Only with a
  // zero idle_timeout: Beast's own timers need the socket's deadline off. Zero: none.
  std::chrono::milliseconds write_timeout{0};
  std::uint64_t max_message_size = 256 * 1024 * 1024;
  int receive_buffer_size = 0;  // SO_RCVBUF before connecting; 0: the system's
  std::string user_agent = "vixy/" VIXY_VERSION;
};

class WsClient {
 public:
  // `tls` is needed only for wss:// and must outlive the client.
  explicit WsClient(boost::asio::any_io_executor executor, boost::asio::ssl::context* tls = nullptr);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  // Sends the URL's credentials as basic auth. Fails with operation_aborted if abort() came first.
  boost::asio::awaitable<boost::beast::error_code> connect(const UpstreamUrl& url, const WsClientOptions& options);
  // The next message; binary frames are read like text (JSON either way). After the peer's close
  // frame it fails with websocket::error::closed, and close_code() tells the code.
  boost::asio::awaitable<std::pair<boost::beast::error_code, std::string>> read();
  // One write at a time (Beast's rule); `text` must stay alive until the write completes.
  boost::asio::awaitable<boost::beast::error_code> write(const std::string& text);
  boost::asio::awaitable<boost::beast::error_code> write_binary(const std::string& data);
  // Sends a ping; its pong, seen by a pending read, counts in pongs().
  boost::asio::awaitable<boost::beast::error_code> ping();
  // Graceful: sends a close frame and waits for the peer's, then closes the socket. Messages
  // before it are dropped, unless a read is pending: that one ends with websocket::error::closed.
  boost::asio::awaitable<boost::beast::error_code> close(std::uint16_t code, std::string reason = {});
  // Abrupt: closes the socket, so pending reads and writes fail at once.
  void abort();

  bool is_open() const;             // handshake done, no close or failure since
  std::uint64_t pongs() const;      // pongs received so far
  int close_code() const;           // the peer's close frame code, 0 when none came
  std::string close_reason() const;  // and its reason text

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vixy::net
