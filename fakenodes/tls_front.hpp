#pragma once
// A TLS listener in front of a node's plain listener: it terminates TLS and relays the bytes both
// ways to the plain port, so the node's logic only ever speaks plain TCP while the proxy's https://
// and wss:// upstream code gets a real TLS peer.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>
#include <memory>
#include <string>
#include <unordered_set>

namespace vixy::fakenodes {

class TlsFront : public std::enable_shared_from_this<TlsFront> {
 public:
  using tcp = boost::asio::ip::tcp;

  // Loads the PEM certificate chain and key; throws std::runtime_error naming the file on failure.
  TlsFront(boost::asio::any_io_executor executor, const std::string& cert_file, const std::string& key_file);

  void set_target(tcp::endpoint target) { target_ = target; }
  boost::system::error_code listen(const tcp::endpoint& endpoint);
  void start();  // accepts until stop_accepting()
  void stop_accepting();
  void close_connections();
  bool listening() const { return acceptor_.is_open(); }
  tcp::endpoint local_endpoint() const { return local_endpoint_; }
  std::size_t connection_count() const { return relays_.size(); }

 private:
  struct Relay;
  static boost::asio::awaitable<void> accept_loop(std::shared_ptr<TlsFront> self);
  static boost::asio::awaitable<void> relay(std::shared_ptr<TlsFront> self, tcp::socket client);

  boost::asio::any_io_executor executor_;
  boost::asio::ssl::context context_;
  tcp::acceptor acceptor_;
  tcp::endpoint local_endpoint_;
  tcp::endpoint target_;
  std::unordered_set<Relay*> relays_;
};

}  // namespace vixy::fakenodes
