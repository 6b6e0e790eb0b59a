#include "net/listen_address.hpp"

#include <charconv>

namespace vixy::net {

Result<boost::asio::ip::tcp::endpoint> parse_listen_address(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return Problem{"expected HOST:PORT"};
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
    return Problem{"port must be a number from 0 to 65535"};
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code aec;
  auto address = boost::asio::ip::make_address(std::string(host), aec);
  if (aec) return Problem{"host must be an IP address or localhost"};
  return boost::asio::ip::tcp::endpoint(address, static_cast<unsigned short>(port));
}

std::string to_string(const boost::asio::ip::tcp::endpoint& endpoint) {
  auto address = endpoint.address();
  std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return host + ":" + std::to_string(endpoint.port());
}

}  // namespace vixy::net
