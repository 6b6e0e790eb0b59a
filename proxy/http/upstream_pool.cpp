#include "http/upstream_pool.hpp"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cerrno>

#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/version.hpp>
#include <stdexcept>

#include "http/retry_policy.hpp"
#include "http/upstream_response.hpp"
#include "net/awaitable.hpp"
#include "net/connect.hpp"

namespace vixy::http {
namespace {

// Beast reads as much as the buffer has room for, at least 512 bytes. Room for a relay chunk
// (16 KiB) takes a large answer in a few dozen reads per MiB instead of two thousand. The limit
// bounds what a node can make vixy hold unparsed: Beast bounds a header, but not a chunk line or
// a trailer section, which a node could otherwise make endless.
constexpr std::size_t kMaxUnparsedBytes = 64 * 1024;
constexpr std::string_view kUserAgent = "vixy/" VIXY_VERSION;
beast::flat_buffer read_buffer() {
  beast::flat_buffer buffer(kMaxUnparsedBytes);
  buffer.reserve(16 * 1024);
  return buffer;
}

// Bytes from the node that no exchange asked for (junk after an answer, or a whole extra answer)
// would be read as the next request's answer: in the read buffer or inside TLS. Checked without a
// system call when a connection goes back to the pool; the socket itself is looked at when it is
// taken out again (`idle_connection_is_usable`).
bool has_unread_bytes(UpstreamConnection& connection) {
  if (connection.buffer.size() > 0) return true;
  if (auto* tls = std::get_if<1>(&connection.stream)) {
    SSL* ssl = tls->native_handle();
    if (SSL_pending(ssl) > 0 || BIO_ctrl_pending(SSL_get_rbio(ssl)) > 0) return true;
  }
  return false;
}

// One non-blocking peek, the only system call the pool adds to a request (it was two FIONREAD
// ioctls, a third of vixy's system calls per proxied request): usable when nothing is waiting on
// the socket. Bytes there are junk the node sent while the connection was idle; end of stream is
// the node having closed it (an idle timeout of its own), which the request would otherwise
// discover by failing.
bool idle_connection_is_usable(UpstreamConnection& connection) {
  if (!connection.tcp().socket().is_open() || has_unread_bytes(connection)) return false;
  char byte = 0;
  int peeked = ::recv(connection.tcp().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return peeked < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}
}  // namespace

const char* to_string(UpstreamFailure failure) {
  switch (failure) {
    case UpstreamFailure::none: return "none";
    case UpstreamFailure::connect: return "connect";
    case UpstreamFailure::before_response: return "before_response";
    case UpstreamFailure::timeout: return "timeout";
    case UpstreamFailure::after_response: return "after_response";
    case UpstreamFailure::bad_response: return "bad_response";
  }
  return "unknown";
}

bool is_disconnect(const beast::error_code& ec) {
  return ec == asio::error::eof || ec == bhttp::error::end_of_stream || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == asio::error::connection_aborted ||
         ec == asio::ssl::error::stream_truncated || ec == bhttp::error::partial_message ||
         ec == asio::error::not_connected || ec == asio::error::bad_descriptor;
}

beast::tcp_stream& UpstreamConnection::tcp() {
  return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); }, stream);
}

UpstreamPool::UpstreamPool(asio::any_io_executor executor, asio::ssl::context& tls, net::UpstreamUrl url,
                           std::chrono::milliseconds connect_timeout, std::size_t max_idle)
    : executor_(std::move(executor)),
      tls_(tls),
      url_(std::move(url)),
      connect_timeout_(connect_timeout),
      max_idle_(max_idle) {
  host_header_ = url_.host_header();
}

NodeFields UpstreamPool::node_fields() const {
  NodeFields fields{host_header_, std::nullopt, kUserAgent};
  if (url_.basic_auth) fields.authorization = *url_.basic_auth;
  return fields;
}

void UpstreamPool::prepare(bhttp::request<bhttp::string_body>& request) const {
  request.set(bhttp::field::host, host_header_);
  // The node's own credentials win over anything a client sent: they are what the node expects.
  if (url_.basic_auth) {
    request.set(bhttp::field::authorization, *url_.basic_auth);
  }
  if (request.find(bhttp::field::user_agent) == request.end()) {
    request.set(bhttp::field::user_agent, kUserAgent);
  }
}

std::unique_ptr<UpstreamConnection> UpstreamPool::take_idle() {
  while (!idle_.empty()) {
    auto connection = std::move(idle_.back());
    idle_.pop_back();
    if (idle_connection_is_usable(*connection)) {
      connection->reused = true;
      return connection;
    }
  }
  return nullptr;
}

asio::awaitable<UpstreamPool::Acquired> UpstreamPool::acquire(Clock::time_point deadline) {
  if (auto connection = take_idle()) co_return Acquired{std::move(connection), UpstreamFailure::none, {}};
  co_return co_await connect(deadline);
}

asio::awaitable<UpstreamPool::Acquired> UpstreamPool::connect(Clock::time_point deadline) {
  net::ConnectOptions options{std::min(deadline, Clock::now() + connect_timeout_)};
  auto connected = co_await net::connect(executor_, url_, &tls_, options);
  if (connected.error) {
    bool late = connected.error == beast::error::timeout && Clock::now() >= deadline;
    co_return Acquired{nullptr, late ? UpstreamFailure::timeout : UpstreamFailure::connect, connected.error};
  }
  auto connection = std::make_unique<UpstreamConnection>(
      UpstreamConnection{std::move(*connected.stream), read_buffer(), false, nullptr});
  connection->tcp().expires_never();
  co_return Acquired{std::move(connection), UpstreamFailure::none, {}};
}

void UpstreamPool::release(std::unique_ptr<UpstreamConnection> connection) {
  if (!connection || idle_.size() >= max_idle_ || has_unread_bytes(*connection)) return;
  connection->tcp().expires_never();
  idle_.push_back(std::move(connection));
}

asio::awaitable<UpstreamPool::Result> UpstreamPool::exchange(bhttp::request<bhttp::string_body> request,
                                                             Clock::time_point deadline,
                                                             std::uint64_t body_limit) {
  prepare(request);
  request.keep_alive(true);
  request.prepare_payload();
  Result result;
  for (bool fresh = false;; fresh = true) {
    // (Not a conditional expression: GCC 12 miscompiles co_await inside ?:.)
    Acquired acquired;
    if (!fresh) {
      acquired = co_await acquire(deadline);
    } else {
      acquired = co_await connect(deadline);
    }
    if (!acquired.connection) {
      result.failure = acquired.failure;
      result.error = acquired.error;
      co_return result;
    }
    auto connection = std::move(acquired.connection);

    std::optional<bhttp::response_parser<bhttp::string_body>> parser;
    bool got_some = false;
    connection->tcp().expires_at(deadline);
    beast::error_code ec = co_await connection->with_stream([&](auto& s) -> asio::awaitable<beast::error_code> {
      auto [wec, wn] = co_await bhttp::async_write(s, request, use_tuple);
      (void)wn;
      if (wec) co_return wec;
      auto limit = [body_limit](auto& p) { p.body_limit(body_limit); };
      auto hec = co_await read_final_header(s, connection->buffer, parser, limit, got_some);
      if (hec || parser->is_done()) co_return hec;
      auto [rec, rn] = co_await bhttp::async_read(s, connection->buffer, *parser, use_tuple);
      (void)rn;
      co_return rec;
    });
    if (!ec) {
      result.failure = UpstreamFailure::none;
      result.error = {};
      bool reusable = answer_allows_reuse(*parser);
      result.response = parser->release();
      if (reusable) release(std::move(connection));
      co_return result;
    }
    result.error = ec;
    result.failure = classify_failure(ec, got_some);
    FailedTry failed{result.failure, connection->reused, is_disconnect(ec), Clock::now() >= deadline};
    if (after_failure(failed) != NextStep::fresh_connection) co_return result;
  }
}

asio::ssl::context make_client_tls_context(const std::optional<std::string>& extra_ca_file) {
  asio::ssl::context context(asio::ssl::context::tls_client);
  context.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                      asio::ssl::context::no_tlsv1_1);
  context.set_default_verify_paths();
  if (extra_ca_file) {
    beast::error_code ec;
    context.load_verify_file(*extra_ca_file, ec);
    if (ec) throw std::runtime_error("tls.ca_file \"" + *extra_ca_file + "\": " + ec.message());
  }
  context.set_verify_mode(asio::ssl::verify_peer);
  return context;
}

}  // namespace vixy::http
