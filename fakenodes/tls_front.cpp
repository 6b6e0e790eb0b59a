#include "fakenodes/tls_front.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <stdexcept>

#include "log/log.hpp"
#include "net/awaitable.hpp"

namespace vixy::fakenodes {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using namespace asio::experimental::awaitable_operators;
using tcp = asio::ip::tcp;
constexpr std::chrono::milliseconds kHandshakeTimeout{10'000};
constexpr std::chrono::milliseconds kShutdownTimeout{200};

void close_socket(tcp::socket& socket) {
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

asio::awaitable<void> timeout(std::chrono::milliseconds after) {
  asio::steady_timer timer(co_await asio::this_coro::executor, after);
  co_await timer.async_wait(use_tuple);
}

// Copies bytes from one side to the other until either fails or closes.
template <class From, class To>
asio::awaitable<void> pump(From& from, To& to) {
  std::array<char, 16 * 1024> buffer;
  for (;;) {
    auto [read_ec, n] = co_await from.async_read_some(asio::buffer(buffer), use_tuple);
    if (read_ec) co_return;
    auto [write_ec, written] = co_await asio::async_write(to, asio::buffer(buffer.data(), n), use_tuple);
    (void)written;
    if (write_ec) co_return;
  }
}

}  // namespace

struct TlsFront::Relay {
  tcp::socket* client;
  tcp::socket* upstream;
  void close() {
    close_socket(*client);
    close_socket(*upstream);
  }
};

TlsFront::TlsFront(asio::any_io_executor executor, const std::string& cert_file, const std::string& key_file)
    : executor_(std::move(executor)), context_(ssl::context::tls_server), acceptor_(executor_) {
  context_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                       ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  boost::system::error_code ec;
  context_.use_certificate_chain_file(cert_file, ec);
  if (ec) throw std::runtime_error("--tls-cert " + cert_file + ": " + ec.message());
  context_.use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) throw std::runtime_error("--tls-key " + key_file + ": " + ec.message());
}

boost::system::error_code TlsFront::listen(const tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) local_endpoint_ = acceptor_.local_endpoint(ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }
  return ec;
}

void TlsFront::start() { asio::co_spawn(executor_, accept_loop(shared_from_this()), log::report_exception("tls accept loop")); }

void TlsFront::stop_accepting() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

void TlsFront::close_connections() {
  for (Relay* relay : relays_) relay->close();
}

asio::awaitable<void> TlsFront::accept_loop(std::shared_ptr<TlsFront> self) {
  while (self->acceptor_.is_open()) {
    auto [ec, socket] = co_await self->acceptor_.async_accept(use_tuple);
    if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) break;
    if (ec) {
      log::warn("tls accept failed", {{"error", ec.message()}});
      co_await timeout(std::chrono::milliseconds(50));
      continue;
    }
    asio::co_spawn(self->executor_, relay(self, std::move(socket)), log::report_exception("tls relay"));
  }
}

asio::awaitable<void> TlsFront::relay(std::shared_ptr<TlsFront> self, tcp::socket client) {
  ssl::stream<tcp::socket> tls(std::move(client), self->context_);
  tcp::socket upstream(self->executor_);
  Relay relay{&tls.next_layer(), &upstream};
  self->relays_.insert(&relay);
  struct Unregister {
    TlsFront* front;
    Relay* relay;
    ~Unregister() {
      relay->close();
      front->relays_.erase(relay);
    }
  } unregister{self.get(), &relay};

  auto handshake =
      co_await (tls.async_handshake(ssl::stream_base::server, use_tuple) || timeout(kHandshakeTimeout));
  if (handshake.index() != 0 || std::get<0>(std::get<0>(handshake))) co_return;
  auto [connect_ec] = co_await upstream.async_connect(self->target_, use_tuple);
  if (connect_ec) co_return;

  auto ended = co_await (pump(tls, upstream) || pump(upstream, tls));
  if (ended.index() == 1 && tls.next_layer().is_open()) {
    // The node closed: say so in TLS (close_notify), so the client sees a clean end, not a truncation.
    co_await (tls.async_shutdown(use_tuple) || timeout(kShutdownTimeout));
  }
}

}  // namespace vixy::fakenodes
