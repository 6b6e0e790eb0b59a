#pragma once
// The proxy's configuration: Vixy's config.toml, accepted unchanged, plus vixy's own additions.
// Loading validates everything up front so that a bad file stops the process at start-up with a
// message that names the file, the line, the key and the reason.

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace vixy::config {

enum class Tier { primary, backup };

struct ElNode {
  std::string name;
  std::string http_url;  // http:// or https://
  std::string ws_url;    // ws:// or wss://
  Tier tier = Tier::primary;
};

struct ClNode {
  std::string name;
  std::string url;  // http:// or https://
};

struct Global {
  std::uint64_t max_el_lag_blocks = 5;
  std::uint64_t max_cl_lag_slots = 3;
  std::uint64_t health_check_interval_ms = 1000;
  std::uint64_t health_check_timeout_ms = 2000;  // vixy addition: bound on one check
  std::uint64_t proxy_timeout_ms = 30000;
  std::uint64_t connect_timeout_ms = 2000;  // vixy addition: bound on connecting to a node, so a
                                            // dead one is skipped long before proxy_timeout_ms
  std::uint32_t max_retries = 2;
  std::uint32_t health_check_max_failures = 3;
  std::uint64_t max_body_size = 10 * 1024 * 1024;  // bytes of a client request body
  // vixy additions: bounds on client JSON, HTTP and WebSocket alike. Deeper JSON is refused before
  // any tree is built (trees are copied and printed recursively); larger batches are refused whole.
  std::uint64_t max_json_depth = 128;
  std::uint64_t max_batch_size = 1000;
};

struct Metrics {
  bool enabled = true;
  std::optional<std::uint16_t> port;  // separate listener for /metrics when set
  std::optional<std::string> host;    // that listener's address (an IP); the proxy's when unset
};

struct Server {
  // "host:port"; --listen wins over it. Vixy's files write it as host and port, which are read into it.
  std::optional<std::string> listen;
  std::uint64_t shutdown_timeout_ms = 10000;  // how long in-flight HTTP may take after SIGTERM
  // vixy additions: what one client may hold. A write to a client (HTTP answer, event stream,
  // WebSocket frame) that makes no progress this long closes that client.
  std::uint64_t client_write_timeout_ms = 10000;
  std::uint64_t max_connections = 0;         // client connections; 0: derived from the descriptor limit
  std::uint64_t max_connections_per_ip = 0;  // 0: no per-address cap
  // Bytes queued for all clients together (WebSocket outboxes); past it, the clients holding the
  // most are closed so that the others keep being served.
  std::uint64_t max_buffered_bytes = 256 * 1024 * 1024;
  // vixy addition: threads serving clients, each with its own listener on the port, upstream
  // connections and WebSocket sessions; 0: one per CPU the process may run on.
  std::uint64_t threads = 0;
};

struct Tls {
  std::optional<std::string> ca_file;  // extra CA bundle (PEM) trusted next to the system CAs
};

// vixy addition: the WebSocket proxy's bounds and timing (per client session).
struct WebSocket {
  std::uint64_t max_pending_requests = 1024;  // queued while no upstream + in flight; excess gets errors
  std::uint64_t max_subscriptions = 1024;
  std::uint64_t max_message_size = 4 * 1024 * 1024;             // a client frame; larger closes with 1009
  std::uint64_t max_upstream_message_size = 256 * 1024 * 1024;  // a node's frame (eth_getLogs can be big)
  std::uint64_t ping_interval_ms = 5000;  // a quiet upstream is pinged after this long...
  std::uint64_t pong_timeout_ms = 5000;   // ...and dropped when nothing came back this long after
  std::uint64_t reconnect_backoff_ms = 100;      // first delay before retrying a node that failed
  std::uint64_t reconnect_backoff_max_ms = 5000;  // the delay doubles per failure up to this
  std::uint64_t backfill_blocks = 128;  // a subscription's gap after a switch is filled over at most this
  std::uint64_t max_pending_bytes = 16 * 1024 * 1024;  // bytes of the requests counted by max_pending_requests
  std::uint64_t max_client_backlog_bytes = 16 * 1024 * 1024;  // queued for a client that reads too slowly
  std::uint64_t upstream_connections = 4;  // WebSockets per node that every session's traffic shares
};

// vixy addition: client methods vixy answers itself with "method not found" (-32601), HTTP and
// WebSocket alike, never sending them to a node. Entries are method names or prefixes ending in
// '*' ("debug_*"). A method is refused when it matches `deny`, or when `allow` is not empty and it
// matches nothing there. vixy's own requests (health checks, backfills) are not filtered.
struct Methods {
  std::vector<std::string> allow;
  std::vector<std::string> deny;
};

// An address block written "10.0.0.0/8", "2001:db8::/32" or a single address. IPv4 is held as
// its IPv4-mapped IPv6 form (::ffff:a.b.c.d, prefix + 96), so one comparison serves both.
struct Cidr {
  std::array<std::uint8_t, 16> bytes{};
  unsigned prefix_bits = 128;
  bool contains(const std::array<std::uint8_t, 16>& address) const;
};

// vixy addition: how many requests one client address may send to /el and /el/ws.
struct Limits {
  std::uint64_t requests_per_second = 0;  // 0: no limit
  std::uint64_t burst = 0;                // requests at once after a quiet time; 0: requests_per_second
  // Peers whose X-Forwarded-For names the client (load balancers in front of vixy).
  std::vector<Cidr> trusted_proxies;
};

// vixy addition: how HTTP requests spread over the best healthy tier.
struct Routing {
  std::string strategy = "priority";  // "priority", "round_robin" or "least_latency"
};

struct Config {
  std::string source_path;  // the file it came from, for messages
  std::string sha256;       // of the file's bytes, lowercase hex (load_file; empty from parse)
  Global global;
  Metrics metrics;
  Server server;
  Tls tls;
  WebSocket websocket;
  Methods methods;
  Limits limits;
  Routing routing;
  std::vector<ElNode> el;  // primaries first (file order), then backups (file order)
  std::vector<ClNode> cl;
};

// Thrown by load/parse; what() reads "FILE:LINE: KEY: REASON" (line omitted when unknown).
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Config load_file(const std::string& path);
// For tests and tools: parse TOML text; `source_name` stands in for the file name in messages.
Config parse(std::string_view toml_text, const std::string& source_name);

const char* to_string(Tier tier);

// Whether two entries (of two versions of a file) are the same node: same name, URLs and tier. A
// reload treats any other change as the node removed and another added.
// Inline: the health snapshot code uses them in builds without the config loader.
inline bool same_node(const ElNode& a, const ElNode& b) {
  return a.name == b.name && a.http_url == b.http_url && a.ws_url == b.ws_url && a.tier == b.tier;
}
inline bool same_node(const ClNode& a, const ClNode& b) { return a.name == b.name && a.url == b.url; }

// "10.0.0.0/8", "::1", ...: nullopt when `text` is not an address or address block.
std::optional<Cidr> parse_cidr(std::string_view text);

}  // namespace vixy::config
