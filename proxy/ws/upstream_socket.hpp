#pragma once
// A WebSocket client connection to one EL node, plain (ws://) or TLS (wss://), with the node's URL
// path, query and credentials. Keep-alive pings are Beast's: a quiet connection is pinged, and one
// that stays silent past the idle timeout fails its pending read, which the session treats as lost.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/error.hpp>

#include "net/upstream_url.hpp"

namespace vixy::ws {

struct UpstreamSocketOptions {
  std::chrono::milliseconds connect_timeout{2000};  // TCP, TLS and the WebSocket handshake together
  std::chrono::milliseconds idle_timeout{10'000};   // nothing received this long: lost (ping at half)
  std::uint64_t max_message_size = 256 * 1024 * 1024;
};

class UpstreamSocket {
 public:
  UpstreamSocket(boost::asio::any_io_executor executor, boost::asio::ssl::context& tls);
  ~UpstreamSocket();
  UpstreamSocket(const UpstreamSocket&) = delete;
  UpstreamSocket& operator=(const UpstreamSocket&) = delete;

  boost::asio::awaitable<boost::beast::error_code> connect(const net::UpstreamUrl& url,
                                                           const UpstreamSocketOptions& options);
  // The next text message (binary frames from a node are read as text: JSON either way).
  boost::asio::awaitable<std::pair<boost::beast::error_code, std::string>> read();
  boost::asio::awaitable<boost::beast::error_code> write(const std::string& text);
  // Abrupt: closes the socket, so pending reads and writes fail at once.
  void close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vixy::ws
