#include "net/tls_client.hpp"

#include <boost/asio/ip/address.hpp>

namespace vixy::net {

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  return !ec;
}

}  // namespace vixy::net
