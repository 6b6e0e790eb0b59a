// vixy: one stable address for Ethereum EL and CL nodes. See README.md.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "http/upstream_pool.hpp"
#include "log/log.hpp"
#include "net/listen_address.hpp"
#include "server/app.hpp"
#include "net/descriptors.hpp"

namespace {

constexpr const char* kUsage = R"(usage: vixy --config FILE [--listen HOST:PORT] [--log-level LEVEL]
       vixy --check-config FILE

  --config FILE       TOML configuration (Vixy's config.toml is accepted as is)
  --check-config FILE validate FILE as start-up would, then exit: 0 if vixy would start with it,
                      2 with the reason if not (nothing is opened or listened on)
  --listen HOST:PORT  address to serve on; wins over [server] listen (default 127.0.0.1:8080)
  --log-level LEVEL   debug, info, warn or error (default info)
  --help              this text
  --version           the version
)";

// Where vixy listens when neither --listen nor the file says (Vixy's default port, loopback only).
constexpr const char* kDefaultListen = "127.0.0.1:8080";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "vixy: %s\n%s", message.c_str(), kUsage);
  return 2;
}

// What start-up checks before it opens anything: the file, the listen address, the CA bundle.
int check_config(const std::string& path) {
  try {
    auto config = vixy::config::load_file(path);
    std::string listen = config.server.listen.value_or(kDefaultListen);
    auto endpoint = vixy::net::parse_listen_address(listen);
    if (!endpoint) throw vixy::config::ConfigError(path + ": listen address \"" + listen + "\": " + endpoint.problem());
    vixy::http::make_client_tls_context(config.tls.ca_file);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vixy: configuration error: %s\n", e.what());
    return 2;
  }
  std::printf("vixy: %s: configuration OK\n", path.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  std::string listen;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--version") {
      std::printf("vixy %s\n", VIXY_VERSION);
      return 0;
    } else if (arg == "--check-config") {
      std::string path;
      if (!value(path)) return usage_error("--check-config needs a file");
      return check_config(path);
    } else if (arg == "--config" || arg == "-c") {
      if (!value(config_path)) return usage_error("--config needs a file");
    } else if (arg == "--listen" || arg == "-l") {
      if (!value(listen)) return usage_error("--listen needs HOST:PORT");
    } else if (arg == "--log-level") {
      std::string level_text;
      vixy::log::Level level;
      if (!value(level_text) || !vixy::log::parse_level(level_text, level)) {
        return usage_error("--log-level needs debug, info, warn or error");
      }
      vixy::log::set_level(level);
    } else {
      return usage_error("unknown argument \"" + std::string(arg) + "\"");
    }
  }
  if (config_path.empty()) return usage_error("--config is required");

  vixy::log::set_component("vixy");
  vixy::net::raise_descriptor_limit();
  try {
    auto config = vixy::config::load_file(config_path);
    if (listen.empty()) listen = config.server.listen.value_or(kDefaultListen);
    auto endpoint = vixy::net::parse_listen_address(listen);
    if (!endpoint) return usage_error("listen address \"" + listen + "\": " + endpoint.problem());
    vixy::server::App app(std::move(config), *endpoint);
    return app.run();
  } catch (const vixy::config::ConfigError& e) {
    std::fprintf(stderr, "vixy: configuration error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    vixy::log::error("fatal", {{"error", e.what()}});
    return 1;
  }
}
