#include "server/app.hpp"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <stdexcept>
#include <thread>

#include <boost/asio/post.hpp>

#include "config/restart_only.hpp"
#include "log/log.hpp"
#include "net/descriptors.hpp"
#include "net/listen_address.hpp"
#include "server/service_notify.hpp"

namespace vixy::server {
namespace {

using net::HttpConnection;
using net::HttpServer;
using net::Request;

// The metrics port is for a few scrapers; its connections come out of the descriptor reserve.
constexpr std::size_t kMetricsPortConnections = 16;

// The caps for the whole process: every thread's listener checks them against the same counts.
net::ServerLimits proxy_limits(const config::Config& config) {
  net::ServerLimits limits;
  limits.max_body_size = config.global.max_body_size;
  limits.write_timeout = std::chrono::milliseconds(config.server.client_write_timeout_ms);
  limits.caps.max_connections = config.server.max_connections > 0
                                    ? config.server.max_connections
                                    : net::connections_for_descriptors(net::descriptor_limit());
  limits.caps.max_connections_per_ip = config.server.max_connections_per_ip;
  limits.always_served_path = "/health";
  return limits;
}

// With several threads every listener sets SO_REUSEPORT, and the kernel would then let this process
// join a port that another process of the same user listens on the same way (a second vixy started
// by mistake) and take part of its connections. So the address is first bound alone: in use is a
// start-up error, as with one thread. Port 0 gets its port here.
tcp::endpoint bind_alone(asio::io_context& io, const tcp::endpoint& endpoint) {
  tcp::acceptor probe(io);
  boost::system::error_code ec;
  probe.open(endpoint.protocol(), ec);
  if (!ec) probe.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) probe.bind(endpoint, ec);
  tcp::endpoint bound = ec ? endpoint : probe.local_endpoint(ec);
  if (ec) throw std::runtime_error("cannot listen on " + net::to_string(endpoint) + " (proxy): " + ec.message());
  return bound;
}

}  // namespace

std::vector<std::unique_ptr<Shard>> App::make_shards(std::size_t count, bool serve_metrics) {
  std::vector<std::unique_ptr<Shard>> shards;
  for (std::size_t i = 0; i < count; ++i) {
    shards.push_back(std::make_unique<Shard>(metrics_, ws_totals_, serve_metrics));
    shards.back()->adopt(generation_, generation_->health.get());
  }
  return shards;
}

std::shared_ptr<monitor::HealthMonitor> App::make_monitor() {
  const auto& part = first().current();
  auto monitor = std::make_shared<monitor::HealthMonitor>(first().io().get_executor(), generation_->config,
                                                          part->upstreams(), metrics_, generation_->health, part);
  // WebSocket sessions and CL event streams hear about health changes as they happen instead of polling.
  monitor->add_listener([this, generation = generation_.get()](const health::SnapshotPtr&,
                                                               const health::SnapshotPtr& next) {
    for (auto& shard : shards_) shard->publish(next, generation);
  });
  return monitor;
}

std::size_t thread_count(const config::Server& server) {
  if (server.threads > 0) return server.threads;
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (sched_getaffinity(0, sizeof(cpus), &cpus) != 0) return 1;
  return static_cast<std::size_t>(std::max(CPU_COUNT(&cpus), 1));
}

App::App(config::Config loaded, const tcp::endpoint& listen)
    : metrics_(loaded),
      generation_(std::make_shared<Generation>(std::move(loaded), nullptr, &metrics_.config_generations)),
      shards_(make_shards(thread_count(generation_->config.server),
                          generation_->config.metrics.enabled && !generation_->config.metrics.port.has_value())),
      monitor_(make_monitor()),
      memory_release_(std::make_shared<MemoryRelease>(first().io().get_executor())) {
  const config::Config& config = generation_->config;
  const std::size_t threads = shards_.size();
  bool separate_metrics = config.metrics.enabled && config.metrics.port.has_value();

  // The threads' listeners count their connections together: the caps are the process's.
  net::ServerLimits limits = proxy_limits(config);
  const std::size_t total_cap = limits.caps.max_connections;
  net::ServerLimits shard_limits = limits;
  shard_limits.shared_counts = std::make_shared<net::ConnectionCounts>();
  // Each thread's share of the cap (as nginx's worker_connections): a thread makes room only with
  // its own idle connections, so a thread whose share another had taken refused everyone, /health
  // too (ConnectionLimits under load, 2 threads, 512 idle connections).
  if (threads > 1 && total_cap > 0) shard_limits.caps.max_served_here = std::max<std::size_t>(total_cap / threads, 1);
  tcp::endpoint endpoint = threads > 1 ? bind_alone(first().io(), listen) : listen;
  for (auto& shard : shards_) {
    shard->listen(endpoint, shard_limits, threads > 1);
    endpoint = shard->local_endpoint();  // port 0 asked for any port: the others join the first's
  }
  log::info("listening", {{"what", "proxy"},
                          {"addr", net::to_string(first().local_endpoint())},
                          {"threads", threads},
                          {"max_connections", total_cap},
                          {"max_connections_per_ip", limits.caps.max_connections_per_ip},
                          {"descriptor_limit", net::descriptor_limit()}});

  if (separate_metrics) {
    // The config loader accepts only IP addresses as [metrics] host.
    auto metrics_address = config.metrics.host ? asio::ip::make_address(*config.metrics.host) : listen.address();
    tcp::endpoint metrics_endpoint(metrics_address, *config.metrics.port);
    net::ServerLimits metrics_limits = limits;
    metrics_limits.caps.max_connections = std::min<std::size_t>(total_cap, kMetricsPortConnections);
    metrics_limits.always_served_path.clear();
    metrics_server_ = std::make_shared<HttpServer>(
        first().io().get_executor(),
        [this](HttpConnection& c, Request& r) { return route_metrics_only(metrics_, c, r); }, metrics_limits);
    if (auto ec = metrics_server_->listen(metrics_endpoint)) {
      throw std::runtime_error("cannot listen on " + net::to_string(metrics_endpoint) + " (metrics): " + ec.message());
    }
    metrics_server_->start();
    log::info("listening", {{"what", "metrics"},
                            {"addr", net::to_string(metrics_server_->local_endpoint())},
                            {"max_connections", metrics_limits.caps.max_connections}});
  }
}

App::~App() = default;

int App::run() {
  signals_.start([this](int signal_number) {
    asio::post(first().io(), [this, signal_number] {
      if (signal_number == SIGHUP) {
        reload();
      } else {
        begin_shutdown(signal_number);
      }
    });
  });
  monitor_->start();
  memory_release_->start();
  const config::Config& config = generation_->config;
  log::info("started", {{"version", VIXY_VERSION},
                        {"el_nodes", config.el.size()},
                        {"cl_nodes", config.cl.size()},
                        {"threads", shards_.size()},
                        {"health_interval_ms", config.global.health_check_interval_ms}});
  // The listeners opened in the constructor: clients may come (systemd's Type=notify waits for this).
  if (!notify_service("READY=1\nSTATUS=serving")) log::warn("could not tell the service manager vixy is ready", {});
  // A shard whose thread fails stops serving; the others are shut down so the process exits
  // (non-zero) instead of running on with part of its connections unanswered.
  std::atomic<bool> failed{false};
  auto fail = [this, &failed](const char* what) {
    failed = true;
    log::error("thread failed", {{"error", what}});
    asio::post(first().io(), [this] { begin_shutdown(0); });
  };
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < shards_.size(); ++i) {
    threads.emplace_back([shard = shards_[i].get(), &fail] {
      try {
        shard->run();
      } catch (const std::exception& e) {
        fail(e.what());
      }
    });
  }
  try {
    first().run();
  } catch (const std::exception& e) {
    failed = true;
    log::error("thread failed", {{"error", e.what()}});
    // The other threads' shutdown needs nobody on this one.
    auto deadline = std::chrono::steady_clock::now() +
                    std::chrono::milliseconds(generation_->config.server.shutdown_timeout_ms);
    for (std::size_t i = 1; i < shards_.size(); ++i) shards_[i]->begin_shutdown(deadline, {});
  }
  for (auto& thread : threads) thread.join();
  signals_.stop();  // nothing may be posted to a shard from here on
  // Every thread is done: what the deadline cut off can be destroyed while everything is alive.
  std::size_t cut = 0, connections_left = 0, sessions_left = 0;
  for (auto& shard : shards_) {
    cut += shard->cut_connections();
    shard->release_handlers();
  }
  for (auto& shard : shards_) {
    connections_left += shard->connection_count();
    sessions_left += shard->session_count();
  }
  if (cut > 0) log::warn("shutdown deadline passed", {{"cut_connections", cut}});
  // Both are 0 unless something outlived its connection's unwinding.
  log::info("stopped", {{"connections_left", connections_left}, {"sessions_left", sessions_left}});
  return failed ? 1 : 0;
}

// On the first shard's thread (posted there by the signal thread). A file that would not start vixy
// changes nothing; one whose bytes are the running file's changes nothing either. Otherwise the file
// becomes a new generation: the restart-only settings keep their running values (and are named in
// the log), nodes that stay keep their health (no request is refused while the new monitor's first
// round runs), every shard sends new requests and sessions to the new generation's part, and the
// monitor is replaced by one for the new node list. Sessions, event streams and requests under way
// stay with the part they began in; its nodes' health follows the new monitor's, so a session on a
// node the file removed or changed moves to one that stayed, make-before-break, as on any failover.
void App::reload() {
  if (shutting_down_) return;
  const config::Config& running = generation_->config;
  config::Config next;
  try {
    next = config::load_file(running.source_path);
  } catch (const std::exception& e) {
    reload_rejected(e.what());
    return;
  }
  if (next.sha256 == running.sha256) {
    metrics_.config_reloads_total.with({"unchanged"}).inc();
    log::info("reload unchanged", {{"config", running.source_path}, {"sha256", running.sha256}});
    return;
  }
  std::vector<std::string> kept = config::keep_restart_only(next, running);
  auto initial = health::carry_over(*generation_->health.get(), running, next);
  GenerationPtr generation;
  try {
    generation = std::make_shared<Generation>(std::move(next), initial, &metrics_.config_generations, generation_.get());
  } catch (const std::exception& e) {  // the CA bundle could not be read
    reload_rejected(e.what());
    return;
  }
  monitor_->stop();
  metrics_.configuration_changed(running, generation->config);
  generation_ = generation;
  first().adopt(generation, initial);
  for (std::size_t i = 1; i < shards_.size(); ++i) {
    asio::post(shards_[i]->io(), [shard = shards_[i].get(), generation, initial] { shard->adopt(generation, initial); });
  }
  monitor_ = make_monitor();
  monitor_->start();
  metrics_.config_reloads_total.with({"applied"}).inc();
  const config::Config& applied = generation->config;
  log::info("reload applied", {{"config", applied.source_path},
                               {"sha256", applied.sha256},
                               {"el_nodes", applied.el.size()},
                               {"cl_nodes", applied.cl.size()},
                               {"healthy_el_nodes", initial->el.healthy_count}});
  if (!kept.empty()) {
    std::string keys;
    for (const auto& key : kept) keys += (keys.empty() ? "" : ",") + key;
    log::warn("reload: settings that need a restart keep their running values", {{"keys", keys}});
  }
}

void App::reload_rejected(const std::string& why) {
  metrics_.config_reloads_total.with({"rejected"}).inc();
  log::error("reload rejected: the running configuration stays",
             {{"config", generation_->config.source_path}, {"error", why}});
}

void App::begin_shutdown(int signal_number) {
  if (shutting_down_) return;
  shutting_down_ = true;
  const auto timeout = std::chrono::milliseconds(generation_->config.server.shutdown_timeout_ms);
  log::info("shutting down", {{"signal", signal_number},
                              {"threads", shards_.size()},
                              {"deadline_ms", timeout.count()}});
  notify_service("STOPPING=1");
  monitor_->stop();
  memory_release_->stop();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  // The first shard also waits for the metrics port's scrapers.
  std::vector<std::shared_ptr<HttpServer>> also;
  if (metrics_server_) also.push_back(metrics_server_);
  for (auto& shard : shards_) {
    shard->begin_shutdown(deadline, shard == shards_.front() ? also : std::vector<std::shared_ptr<HttpServer>>{});
  }
}

}  // namespace vixy::server
