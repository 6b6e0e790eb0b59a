#pragma once
// "HOST:PORT" as given on the command line or in [server] listen.

#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>

#include "text/result.hpp"

namespace vixy::net {

// Accepts IPv4 ("127.0.0.1:8080"), bracketed IPv6 ("[::1]:8080") and "localhost:PORT"; port 0
// asks the system for a free port. The problem says what is wrong with anything else.
Result<boost::asio::ip::tcp::endpoint> parse_listen_address(std::string_view text);

std::string to_string(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace vixy::net
