#pragma once
// Kept-alive connections to one upstream node (plain TCP or TLS). Lives on one single-threaded
// executor, like the server that uses it.

#include <chrono>
#include <memory>
#include <variant>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "http/flat_header.hpp"
#include "net/connect.hpp"
#include "net/upstream_url.hpp"

namespace vixy::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using Clock = std::chrono::steady_clock;

// One open connection. `stream` is either kind; use with_stream() to work on it generically.
struct UpstreamConnection {
  net::AnyStream stream;
  beast::flat_buffer buffer;
  bool reused = false;  // came from the idle pool (so it may have been closed by the peer meanwhile)
  // Where a relayed answer's body passes through on its way to the client: one per connection,
  // made on first use (16 KiB in a coroutine frame per request was a large allocation each time).
  std::unique_ptr<char[]> body_chunk;

  beast::tcp_stream& tcp();
  template <class F>
  decltype(auto) with_stream(F&& f) {
    return std::visit(std::forward<F>(f), stream);
  }
};

// Why an exchange with a node failed, which decides what the caller may do next.
enum class UpstreamFailure {
  none,
  connect,           // no connection: refused, unreachable, TLS handshake or certificate failure
  before_response,   // connected and (maybe) sent, but no response byte came back: safe to retry elsewhere
  timeout,           // the deadline passed
  after_response,    // the response broke off midway
  bad_response,      // the node answered with something vixy cannot relay: an unasked 101, endless
                     // 1xx, broken framing. Not retried elsewhere: the node did get the request
};

const char* to_string(UpstreamFailure failure);

class UpstreamPool {
 public:
  UpstreamPool(asio::any_io_executor executor, asio::ssl::context& tls, net::UpstreamUrl url,
               std::chrono::milliseconds connect_timeout, std::size_t max_idle = 64);

  const net::UpstreamUrl& url() const { return url_; }

  // A connection, or why there is none.
  struct Acquired {
    std::unique_ptr<UpstreamConnection> connection;  // null exactly when `failure` is set
    UpstreamFailure failure = UpstreamFailure::none;
    beast::error_code error;
  };
  // A pooled connection when one is idle, else a new one.
  asio::awaitable<Acquired> acquire(Clock::time_point deadline);
  // An idle pooled connection that is still usable, or null: acquire() without a coroutine.
  std::unique_ptr<UpstreamConnection> take_idle();
  // A fresh connection, bypassing the pool.
  asio::awaitable<Acquired> connect(Clock::time_point deadline);
  // Return a connection whose last exchange ended cleanly with keep-alive. One with anything of
  // the node's left unread on it (buffered or arrived) is closed instead.
  void release(std::unique_ptr<UpstreamConnection> connection);
  void clear_idle() { idle_.clear(); }
  // Whoever uses the pool is being replaced (a reload): idle connections close now, and those given
  // back later close too, instead of staying open to a node for requests that will not come.
  void retire() {
    max_idle_ = 0;
    idle_.clear();
  }

  // A request with its whole response in memory (health checks, small answers). A pooled
  // connection that turns out dead before any response byte is replaced by a fresh one once.
  struct Result {
    UpstreamFailure failure = UpstreamFailure::none;
    beast::error_code error;
    bhttp::response<bhttp::string_body> response;
  };
  asio::awaitable<Result> exchange(bhttp::request<bhttp::string_body> request, Clock::time_point deadline,
                                   std::uint64_t body_limit = 8 * 1024 * 1024);

  // Adds Host, Authorization (from URL credentials) and User-Agent to a request for this node.
  void prepare(bhttp::request<bhttp::string_body>& request) const;
  // The same fields for a header written flat (flat_node_request).
  NodeFields node_fields() const;

 private:
  asio::any_io_executor executor_;
  asio::ssl::context& tls_;
  std::string host_header_;
  net::UpstreamUrl url_;
  std::chrono::milliseconds connect_timeout_;
  std::size_t max_idle_;
  std::vector<std::unique_ptr<UpstreamConnection>> idle_;
};

// A TLS client context that verifies peers against the system CAs plus `extra_ca_file`.
// Throws on an unreadable CA file (start-up only).
asio::ssl::context make_client_tls_context(const std::optional<std::string>& extra_ca_file);

// True for errors that mean the peer closed or reset the connection.
bool is_disconnect(const beast::error_code& ec);

}  // namespace vixy::http
