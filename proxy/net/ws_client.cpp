#include "net/ws_client.hpp"

#include <variant>

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "net/awaitable.hpp"
#include "net/connect.hpp"

namespace vixy::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

using PlainWs = websocket::stream<beast::tcp_stream>;
using SecureWs = websocket::stream<TlsStream>;

}  // namespace

struct WsClient::Impl {
  asio::any_io_executor executor;
  asio::ssl::context* tls = nullptr;
  // Behind pointers: Beast's streams must not move once operations have started on them.
  std::variant<std::monostate, std::unique_ptr<PlainWs>, std::unique_ptr<SecureWs>> ws;
  beast::flat_buffer buffer;
  std::chrono::milliseconds write_timeout{0};
  std::uint64_t pongs = 0;
  bool aborted = false;

  PlainWs* plain() {
    auto* p = std::get_if<1>(&ws);
    return p != nullptr ? p->get() : nullptr;
  }
  SecureWs* secure() {
    auto* p = std::get_if<2>(&ws);
    return p != nullptr ? p->get() : nullptr;
  }
  beast::error_code not_connected() const {
    return aborted ? asio::error::operation_aborted : asio::error::not_connected;
  }
  // Calls f with the WebSocket stream, whichever kind it is; `otherwise` when there is none.
  template <class F, class R>
  R with_ws(F&& f, R otherwise) const {
    if (auto* p = std::get_if<1>(&ws)) return f(**p);
    if (auto* s = std::get_if<2>(&ws)) return f(**s);
    return otherwise;
  }

  template <class Stream>
  asio::awaitable<beast::error_code> handshake(Stream& stream, const UpstreamUrl& url, const WsClientOptions& options) {
    stream.read_message_max(options.max_message_size);
    stream.set_option(websocket::stream_base::decorator([&url, &options](websocket::request_type& request) {
      request.set(beast::http::field::user_agent, options.user_agent);
      if (url.basic_auth) request.set(beast::http::field::authorization, *url.basic_auth);
    }));
    std::string host = url.host_header();
    std::string target = url.target();
    auto [ec] = co_await stream.async_handshake(host, target, use_tuple);
    if (ec) co_return ec;
    if (aborted) co_return asio::error::operation_aborted;
    // From here Beast's own timers govern the connection: the TCP deadline must be off.
    beast::get_lowest_layer(stream).expires_never();
    stream.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind == websocket::frame_type::pong) ++pongs;
    });
    if (options.idle_timeout.count() > 0) {
      websocket::stream_base::timeout timeout{};
      timeout.handshake_timeout = options.connect_timeout;
      timeout.idle_timeout = options.idle_timeout;
      timeout.keep_alive_pings = true;
      stream.set_option(timeout);
    } else {
      write_timeout = options.write_timeout;
    }
    co_return beast::error_code{};
  }

  template <class Stream>
  asio::awaitable<beast::error_code> send(Stream& stream, const std::string& data, bool binary) {
    stream.binary(binary);
    if (write_timeout.count() > 0) beast::get_lowest_layer(stream).expires_after(write_timeout);
    auto [ec, n] = co_await stream.async_write(asio::buffer(data), use_tuple);
    (void)n;
    if (write_timeout.count() > 0 && !ec) beast::get_lowest_layer(stream).expires_never();
    co_return ec;
  }

  template <class Stream>
  asio::awaitable<beast::error_code> receive(Stream& stream) {
    auto [ec, n] = co_await stream.async_read(buffer, use_tuple);
    (void)n;
    co_return ec;
  }

  template <class Stream>
  static asio::awaitable<beast::error_code> send_ping(Stream& stream) {
    websocket::ping_data payload;
    auto [ec] = co_await stream.async_ping(payload, use_tuple);
    co_return ec;
  }

  template <class Stream>
  static asio::awaitable<beast::error_code> send_close(Stream& stream, const websocket::close_reason& why) {
    websocket::close_reason frame = why;
    auto [ec] = co_await stream.async_close(frame, use_tuple);
    co_return ec;
  }
};

WsClient::WsClient(asio::any_io_executor executor, asio::ssl::context* tls) : impl_(std::make_unique<Impl>()) {
  impl_->executor = std::move(executor);
  impl_->tls = tls;
}

WsClient::~WsClient() = default;

asio::awaitable<beast::error_code> WsClient::connect(const UpstreamUrl& url, const WsClientOptions& options) {
  ConnectOptions connect_options{std::chrono::steady_clock::now() + options.connect_timeout,
                                 options.receive_buffer_size};
  auto connected = co_await net::connect(impl_->executor, url, impl_->tls, connect_options);
  if (connected.error) co_return connected.error;
  // abort() came while the connection was being made, when there was no socket yet to close.
  if (impl_->aborted) co_return asio::error::operation_aborted;
  if (auto* plain_stream = std::get_if<0>(&*connected.stream)) {
    auto& ws = impl_->ws.emplace<1>(std::make_unique<PlainWs>(std::move(*plain_stream)));
    co_return co_await impl_->handshake(*ws, url, options);
  }
  auto& ws = impl_->ws.emplace<2>(std::make_unique<SecureWs>(std::move(std::get<1>(*connected.stream))));
  co_return co_await impl_->handshake(*ws, url, options);
}

asio::awaitable<std::pair<beast::error_code, std::string>> WsClient::read() {
  Impl& s = *impl_;
  beast::error_code ec = s.not_connected();
  if (auto* plain = s.plain()) {
    ec = co_await s.receive(*plain);
  } else if (auto* secure = s.secure()) {
    ec = co_await s.receive(*secure);
  }
  std::string text;
  if (!ec) text = beast::buffers_to_string(s.buffer.data());
  s.buffer.consume(s.buffer.size());
  co_return std::pair{ec, std::move(text)};
}

asio::awaitable<beast::error_code> WsClient::write(const std::string& text) {
  if (auto* plain = impl_->plain()) co_return co_await impl_->send(*plain, text, /*binary=*/false);
  if (auto* secure = impl_->secure()) co_return co_await impl_->send(*secure, text, /*binary=*/false);
  co_return impl_->not_connected();
}

asio::awaitable<beast::error_code> WsClient::write_binary(const std::string& data) {
  if (auto* plain = impl_->plain()) co_return co_await impl_->send(*plain, data, /*binary=*/true);
  if (auto* secure = impl_->secure()) co_return co_await impl_->send(*secure, data, /*binary=*/true);
  co_return impl_->not_connected();
}

asio::awaitable<beast::error_code> WsClient::ping() {
  if (auto* plain = impl_->plain()) co_return co_await Impl::send_ping(*plain);
  if (auto* secure = impl_->secure()) co_return co_await Impl::send_ping(*secure);
  co_return impl_->not_connected();
}

asio::awaitable<beast::error_code> WsClient::close(std::uint16_t code, std::string reason) {
  websocket::close_reason why(static_cast<websocket::close_code>(code), reason);
  if (auto* plain = impl_->plain()) co_return co_await Impl::send_close(*plain, why);
  if (auto* secure = impl_->secure()) co_return co_await Impl::send_close(*secure, why);
  co_return impl_->not_connected();
}

void WsClient::abort() {
  impl_->aborted = true;
  beast::tcp_stream* lowest = nullptr;
  if (auto* plain = impl_->plain()) lowest = &beast::get_lowest_layer(*plain);
  if (auto* secure = impl_->secure()) lowest = &beast::get_lowest_layer(*secure);
  if (lowest != nullptr) {
    beast::error_code ignored;
    lowest->socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    lowest->close();
  }
}

bool WsClient::is_open() const {
  return !impl_->aborted && impl_->with_ws([](const auto& s) { return s.is_open(); }, false);
}

std::uint64_t WsClient::pongs() const { return impl_->pongs; }

int WsClient::close_code() const {
  return impl_->with_ws([](const auto& s) { return static_cast<int>(s.reason().code); }, 0);
}

std::string WsClient::close_reason() const {
  return impl_->with_ws(
      [](const auto& s) {
        const auto& reason = s.reason().reason;
        return std::string(reason.data(), reason.size());
      },
      std::string());
}

}  // namespace vixy::net
