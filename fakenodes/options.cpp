#include "fakenodes/options.hpp"

#include <charconv>

namespace vixy::fakenodes {
namespace {

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<tcp::endpoint> parse_endpoint(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  auto port = parse_u64(text.substr(colon + 1));
  if (!port || *port > 65535) return std::nullopt;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(std::string(host), ec);
  if (ec) return std::nullopt;
  return tcp::endpoint(address, static_cast<unsigned short>(*port));
}

std::string format_endpoint(const tcp::endpoint& endpoint) {
  std::string host = endpoint.address().to_string();
  if (endpoint.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(endpoint.port());
}

std::string usage() {
  return "usage: vixy-fakenode el|cl --listen ADDR [options]\n"
         "  --listen HOST:PORT       JSON-RPC (el) or beacon REST (cl) listener (port 0 picks one)\n"
         "  --admin HOST:PORT        admin API, loopback only (default 127.0.0.1:0)\n"
         "  --chain-seed N           chain seed; nodes with the same seed agree (default 0)\n"
         "  --block-time-ms T        block (slot) time in milliseconds (default 1000)\n"
         "  --chain-id N             el only: chain id (default 1)\n"
         "  --name NAME              shown in web3_clientVersion / node version and logs\n"
         "  --tls-listen HOST:PORT   also accept TLS here and relay it to the plain listener\n"
         "  --tls-cert FILE          PEM certificate for --tls-listen\n"
         "  --tls-key FILE           PEM private key for --tls-listen\n"
         "  --log-level LEVEL        debug|info|warn|error (default info)\n"
         "  --help                   this text\n"
         "Every listener logs `listening what=rpc|admin|tls addr=HOST:PORT` once bound.\n";
}

ParsedOptions parse_options(const std::vector<std::string_view>& args) {
  ParsedOptions parsed;
  auto fail = [&](std::string why) {
    parsed.error = std::move(why);
    return parsed;
  };
  for (auto arg : args) {
    if (arg == "--help" || arg == "-h") {
      parsed.help = true;
      return parsed;
    }
  }
  if (args.empty()) return fail("missing node kind: el or cl");

  NodeOptions options;
  if (args[0] == "el") {
    options.kind = NodeKind::el;
  } else if (args[0] == "cl") {
    options.kind = NodeKind::cl;
  } else {
    return fail("unknown node kind '" + std::string(args[0]) + "': expected el or cl");
  }

  bool have_listen = false;
  std::optional<tcp::endpoint> tls_listen;
  std::string tls_cert, tls_key;
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::string_view flag = args[i];
    if (i + 1 >= args.size()) return fail(std::string(flag) + ": missing value (or unknown argument)");
    std::string_view value = args[++i];
    auto bad = [&](const char* what) {
      return fail(std::string(flag) + ": " + what + ", got '" + std::string(value) + "'");
    };

    if (flag == "--listen" || flag == "--admin" || flag == "--tls-listen") {
      auto endpoint = parse_endpoint(value);
      if (!endpoint) return bad("expected HOST:PORT");
      if (flag == "--listen") {
        options.listen = *endpoint;
        have_listen = true;
      } else if (flag == "--admin") {
        if (!endpoint->address().is_loopback()) return bad("the admin API must bind a loopback address");
        options.admin = *endpoint;
      } else {
        tls_listen = *endpoint;
      }
    } else if (flag == "--chain-seed" || flag == "--block-time-ms" || flag == "--chain-id") {
      auto number = parse_u64(value);
      if (!number) return bad("expected a non-negative integer");
      if (flag == "--chain-seed") {
        options.chain.seed = *number;
      } else if (flag == "--block-time-ms") {
        if (*number == 0) return bad("must be positive");
        options.chain.block_time_ms = *number;
      } else {
        options.chain.chain_id = *number;
      }
    } else if (flag == "--name") {
      if (value.empty()) return bad("must not be empty");
      options.name = value;
    } else if (flag == "--tls-cert") {
      tls_cert = value;
    } else if (flag == "--tls-key") {
      tls_key = value;
    } else if (flag == "--log-level") {
      if (!log::parse_level(value, options.log_level)) return bad("expected debug, info, warn or error");
    } else {
      return fail("unknown argument '" + std::string(flag) + "'");
    }
  }
  if (!have_listen) return fail("--listen: required");
  if (tls_listen) {
    if (tls_cert.empty()) return fail("--tls-cert: required with --tls-listen");
    if (tls_key.empty()) return fail("--tls-key: required with --tls-listen");
    options.tls = TlsOptions{*tls_listen, tls_cert, tls_key};
  } else if (!tls_cert.empty() || !tls_key.empty()) {
    return fail(std::string(tls_cert.empty() ? "--tls-key" : "--tls-cert") + ": needs --tls-listen");
  }
  if (options.name.empty()) options.name = options.kind == NodeKind::el ? "el" : "cl";
  parsed.options = std::move(options);
  return parsed;
}

}  // namespace vixy::fakenodes
