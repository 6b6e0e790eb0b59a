#include "ws/upstream_socket.hpp"

#include <openssl/ssl.h>

#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "net/awaitable.hpp"
#include "net/tls_client.hpp"

namespace vixy::ws {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

using Plain = websocket::stream<beast::tcp_stream>;
using Secure = websocket::stream<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace

struct UpstreamSocket::Impl {
  asio::any_io_executor executor;
  asio::ssl::context& tls;
  std::variant<std::monostate, std::unique_ptr<Plain>, std::unique_ptr<Secure>> ws;
  beast::flat_buffer buffer;

  beast::tcp_stream* tcp() {
    if (auto* plain = std::get_if<1>(&ws)) return &beast::get_lowest_layer(**plain);
    if (auto* secure = std::get_if<2>(&ws)) return &beast::get_lowest_layer(**secure);
    return nullptr;
  }

  template <class Stream>
  asio::awaitable<beast::error_code> handshake(Stream& stream, const net::UpstreamUrl& url,
                                               const UpstreamSocketOptions& options) {
    stream.read_message_max(options.max_message_size);
    stream.set_option(websocket::stream_base::decorator([&url](websocket::request_type& request) {
      request.set(beast::http::field::user_agent, "vixy/" VIXY_VERSION);
      if (url.basic_auth) request.set(beast::http::field::authorization, *url.basic_auth);
    }));
    auto [ec] = co_await stream.async_handshake(url.host_header(), url.target(), use_tuple);
    if (ec) co_return ec;
    // From here Beast's own timers govern the connection: the TCP deadline must be off.
    beast::get_lowest_layer(stream).expires_never();
    websocket::stream_base::timeout timeout{};
    timeout.handshake_timeout = options.connect_timeout;
    timeout.idle_timeout = options.idle_timeout;
    timeout.keep_alive_pings = true;
    stream.set_option(timeout);
    co_return beast::error_code{};
  }
};

UpstreamSocket::UpstreamSocket(asio::any_io_executor executor, asio::ssl::context& tls)
    : impl_(std::make_unique<Impl>(Impl{std::move(executor), tls, {}, {}})) {}

UpstreamSocket::~UpstreamSocket() = default;

asio::awaitable<beast::error_code> UpstreamSocket::connect(const net::UpstreamUrl& url,
                                                           const UpstreamSocketOptions& options) {
  auto deadline = std::chrono::steady_clock::now() + options.connect_timeout;
  asio::ip::tcp::resolver resolver(impl_->executor);
  auto [rec, endpoints] = co_await resolver.async_resolve(url.host, url.port, use_tuple);
  if (rec) co_return rec;
  beast::tcp_stream tcp(impl_->executor);
  tcp.expires_at(deadline);
  auto [cec, endpoint] = co_await tcp.async_connect(endpoints, use_tuple);
  (void)endpoint;
  if (cec) co_return cec;
  beast::error_code ignored;
  tcp.socket().set_option(asio::ip::tcp::no_delay(true), ignored);

  if (!url.tls) {
    auto& plain = impl_->ws.emplace<1>(std::make_unique<Plain>(std::move(tcp)));
    co_return co_await impl_->handshake(*plain, url, options);
  }
  auto& secure = impl_->ws.emplace<2>(std::make_unique<Secure>(std::move(tcp), impl_->tls));
  auto& tls_stream = secure->next_layer();
  net::expect_server(tls_stream, url.host);
  auto [hec] = co_await tls_stream.async_handshake(asio::ssl::stream_base::client, use_tuple);
  if (hec) co_return hec;
  co_return co_await impl_->handshake(*secure, url, options);
}

asio::awaitable<std::pair<beast::error_code, std::string>> UpstreamSocket::read() {
  beast::error_code ec;
  if (auto* plain = std::get_if<1>(&impl_->ws)) {
    auto [e, n] = co_await (*plain)->async_read(impl_->buffer, use_tuple);
    (void)n;
    ec = e;
  } else if (auto* secure = std::get_if<2>(&impl_->ws)) {
    auto [e, n] = co_await (*secure)->async_read(impl_->buffer, use_tuple);
    (void)n;
    ec = e;
  } else {
    ec = asio::error::not_connected;
  }
  std::string text;
  if (!ec) text = beast::buffers_to_string(impl_->buffer.data());
  impl_->buffer.consume(impl_->buffer.size());
  co_return std::pair{ec, std::move(text)};
}

asio::awaitable<beast::error_code> UpstreamSocket::write(const std::string& text) {
  beast::error_code ec = asio::error::not_connected;
  if (auto* plain = std::get_if<1>(&impl_->ws)) {
    (*plain)->text(true);
    auto [e, n] = co_await (*plain)->async_write(asio::buffer(text), use_tuple);
    (void)n;
    ec = e;
  } else if (auto* secure = std::get_if<2>(&impl_->ws)) {
    (*secure)->text(true);
    auto [e, n] = co_await (*secure)->async_write(asio::buffer(text), use_tuple);
    (void)n;
    ec = e;
  }
  co_return ec;
}

void UpstreamSocket::close() {
  if (auto* tcp = impl_->tcp()) {
    beast::error_code ignored;
    tcp->socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    tcp->close();
  }
}

}  // namespace vixy::ws
