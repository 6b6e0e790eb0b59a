#pragma once
// The one way to open a connection to a node (or any HTTP/WebSocket peer): resolve, TCP connect
// and, for https/wss, the TLS handshake with SNI and the host-name check, all under one deadline.
// The HTTP pool and the WebSocket client both use it, so a fix to how vixy reaches a node (say,
// a certificate check) lands in one place.

#include <chrono>
#include <optional>
#include <variant>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "net/upstream_url.hpp"

namespace vixy::net {

using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
// Index 0 plain, 1 TLS: the order UpstreamConnection and the WebSocket client rely on.
using AnyStream = std::variant<boost::beast::tcp_stream, TlsStream>;

struct ConnectOptions {
  std::chrono::steady_clock::time_point deadline;
  // SO_RCVBUF before the SYN (0: the system's): a small one makes a peer's writes back up in the
  // peer, which hostile clients rely on. Set later, the window already offered would stay large.
  int receive_buffer_size = 0;
};

struct ConnectResult {
  boost::beast::error_code error;  // resolve, connect or TLS failure; beast::error::timeout at the deadline
  std::optional<AnyStream> stream;  // set exactly when !error
};

// The returned stream still carries the deadline, so that whatever the caller does next (a
// WebSocket handshake) is bounded by it too: call expires_never() when the connection is ready.
// `tls` is used only for a TLS URL; with none such a URL fails with operation_not_supported.
boost::asio::awaitable<ConnectResult> connect(const boost::asio::any_io_executor& executor, const UpstreamUrl& url,
                                              boost::asio::ssl::context* tls, const ConnectOptions& options);

}  // namespace vixy::net
