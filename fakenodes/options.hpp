#pragma once
// What a fake node is told on its command line (and what tests hand to it in-process).

#include <boost/asio/ip/tcp.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fakenodes/chain.hpp"
#include "log/log.hpp"

namespace vixy::fakenodes {

using tcp = boost::asio::ip::tcp;

enum class NodeKind { el, cl };

struct TlsOptions {
  tcp::endpoint listen;
  std::string cert_file;  // PEM certificate chain
  std::string key_file;   // PEM private key
};

struct NodeOptions {
  NodeKind kind = NodeKind::el;
  tcp::endpoint listen{boost::asio::ip::make_address("127.0.0.1"), 0};
  tcp::endpoint admin{boost::asio::ip::make_address("127.0.0.1"), 0};  // always loopback
  ChainParams chain;
  std::string name;  // defaults to the kind ("el" / "cl")
  std::optional<TlsOptions> tls;
  log::Level log_level = log::Level::info;
};

struct ParsedOptions {
  std::optional<NodeOptions> options;  // set when the arguments are good
  bool help = false;                   // --help was asked for
  std::string error;                   // names the bad argument otherwise
};

// args excludes the program name: {"el", "--listen", "127.0.0.1:0", ...}.
ParsedOptions parse_options(const std::vector<std::string_view>& args);
std::string usage();

// "127.0.0.1:8545", "localhost:0", "[::1]:80"; nullopt when it is not an address and port.
std::optional<tcp::endpoint> parse_endpoint(std::string_view text);
// "127.0.0.1:PORT" as the "listening" log line shows it.
std::string format_endpoint(const tcp::endpoint& endpoint);

}  // namespace vixy::fakenodes
