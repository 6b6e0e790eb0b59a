#pragma once
// An in-process TCP echo server and a raw blocking client with deadlines, for the fault injector's
// tests: they tell silence, EOF and RST apart.

#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "net/awaitable.hpp"

namespace vixy::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Echoes every byte back; a chunk containing "BYE" is echoed and then the server closes (FIN).
class EchoServer {
 public:
  EchoServer() : acceptor_(io_, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(io_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~EchoServer() {
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return port_; }

 private:
  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
      if (ec) co_return;
      asio::co_spawn(io_, echo(std::move(socket)), asio::detached);
    }
  }
  static asio::awaitable<void> echo(tcp::socket socket) {
    std::string buffer(64 * 1024, '\0');
    for (;;) {
      auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), use_tuple);
      if (ec) co_return;
      auto [wec, written] =
          co_await asio::async_write(socket, asio::buffer(buffer.data(), n), use_tuple);
      (void)written;
      if (wec) co_return;
      if (std::string_view(buffer.data(), n).find("BYE") != std::string_view::npos) {
        boost::system::error_code ignored;
        socket.shutdown(tcp::socket::shutdown_both, ignored);
        co_return;
      }
    }
  }

  asio::io_context io_{1};
  tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// A blocking client with deadlines (poll), so that silence, EOF and RST can be told apart.
class RawClient {
 public:
  enum class End { data, eof, reset, silence };

  boost::system::error_code connect(std::uint16_t port) {
    boost::system::error_code ec;
    socket_.connect(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port), ec);
    return ec;
  }
  void send(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }

  // Reads exactly n bytes; nullopt when they did not all come before the deadline.
  std::optional<std::string> read(std::size_t n, std::chrono::milliseconds timeout = 5s) {
    std::string out;
    auto deadline = Clock::now() + timeout;
    while (out.size() < n) {
      if (!readable(deadline)) return std::nullopt;
      char buffer[65536];
      auto got = ::recv(socket_.native_handle(), buffer, std::min(sizeof buffer, n - out.size()), 0);
      if (got <= 0) return std::nullopt;
      out.append(buffer, static_cast<std::size_t>(got));
    }
    return out;
  }
  std::optional<std::string> echo(const std::string& bytes, std::chrono::milliseconds timeout = 5s) {
    send(bytes);
    return read(bytes.size(), timeout);
  }
  // What the connection does next within the timeout.
  End next(std::chrono::milliseconds timeout) {
    if (!readable(Clock::now() + timeout)) return End::silence;
    char byte;
    auto got = ::recv(socket_.native_handle(), &byte, 1, 0);
    if (got > 0) return End::data;
    if (got == 0) return End::eof;
    return errno == ECONNRESET ? End::reset : End::data;
  }

 private:
  bool readable(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    pollfd fd{socket_.native_handle(), POLLIN, 0};
    return ::poll(&fd, 1, static_cast<int>(std::max<long>(left, 0))) > 0;
  }

  asio::io_context io_;
  tcp::socket socket_{io_};
};

}  // namespace vixy::testing
