// Disturbance: while a paced HTTP client, a paced WebSocket client and a newHeads subscriber run
// through the proxy, the primary fake node is killed (its admin API), then restarted. Measured:
// time from the kill to the first good answer of a request sent after it, and to the first
// notification after it; time from the restart until /metrics shows the sessions back on the
// primary; and what clients saw go wrong meanwhile (failed requests, missed or repeated heads).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <iostream>
#include <optional>

#include "common.hpp"

namespace vixy::loadgen {
namespace {

struct Exchange {
  Clock::time_point sent, done;
  bool ok = false;
};

struct FailoverRun {
  tcp::endpoint target, admin;
  Clock::time_point start;
  std::chrono::microseconds period{2000};
  std::vector<Exchange> http, ws;
  std::vector<std::pair<Clock::time_point, std::uint64_t>> heads;  // arrival, height
  int exit_code = 1;
};

asio::awaitable<void> sleep_for(Clock::duration d) {
  asio::steady_timer timer(co_await asio::this_coro::executor, d);
  co_await timer.async_wait(use_tuple);
}

// Four connections share one schedule, so one stuck request does not stop the others.
asio::awaitable<void> http_pacer(FailoverRun& run, int worker, int workers) {
  const std::string body = body_of("blockNumber");
  for (std::uint64_t i = static_cast<std::uint64_t>(worker);; i += static_cast<std::uint64_t>(workers)) {
    auto due = run.start + run.period * static_cast<long>(i);
    asio::steady_timer timer(co_await asio::this_coro::executor, due);
    co_await timer.async_wait(use_tuple);
    auto sent = Clock::now();
    auto reply = co_await http_once(run.target, http::verb::post, "/el", body);
    bool ok = !reply.ec && reply.status == 200 && reply.body.find("\"result\"") != std::string::npos;
    run.http.push_back({sent, Clock::now(), ok});
  }
}

asio::awaitable<void> ws_pacer(FailoverRun& run) {
  const std::string request = body_of("blockNumber");
  while (true) {
    net::WsClient ws(co_await asio::this_coro::executor);
    bool opened = co_await ws_open(ws, run.target, "/el/ws");
    while (opened) {
      auto sent = Clock::now();
      beast::error_code write_ec = co_await ws.write(request);
      beast::error_code read_ec = write_ec;
      std::string answer;
      if (!write_ec) {
        auto [ec, text] = co_await ws.read();
        read_ec = ec;
        answer = std::move(text);
      }
      bool ok = !read_ec && answer.find("\"result\"") != std::string::npos;
      run.ws.push_back({sent, Clock::now(), ok});
      if (read_ec) break;
      co_await sleep_for(run.period);
    }
    run.ws.push_back({Clock::now(), Clock::now(), false});  // the session broke: clients notice that
    co_await sleep_for(run.period);
  }
}

std::optional<std::uint64_t> head_height(std::string_view message) {
  auto at = message.find("\"number\":\"0x");
  if (at == std::string_view::npos) return std::nullopt;
  std::uint64_t value = 0;
  for (auto i = at + 12; i < message.size() && std::isxdigit(static_cast<unsigned char>(message[i])); ++i) {
    value = value * 16 + static_cast<std::uint64_t>(std::stoi(std::string(1, message[i]), nullptr, 16));
  }
  return value;
}

asio::awaitable<void> subscriber(FailoverRun& run) {
  net::WsClient ws(co_await asio::this_coro::executor);
  bool opened = co_await ws_open(ws, run.target, "/el/ws");
  if (!opened) co_return;
  const std::string subscribe = R"({"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]})";
  beast::error_code write_ec = co_await ws.write(subscribe);
  if (write_ec) co_return;
  while (true) {
    auto [read_ec, message] = co_await ws.read();
    if (read_ec) co_return;
    if (message.find("eth_subscription") == std::string::npos) continue;
    if (auto height = head_height(message)) run.heads.emplace_back(Clock::now(), *height);
  }
}

std::optional<double> gauge(const std::string& metrics, const std::string& series) {
  auto at = metrics.find(series + " ");
  if (at == std::string::npos) return std::nullopt;
  return std::stod(metrics.substr(at + series.size() + 1, 32));
}

// True when every session is on the primary: the primary's gauge is 1 and the backup's 0.
asio::awaitable<bool> on_primary(const FailoverRun& run) {
  auto reply = co_await http_once(run.target, http::verb::get, "/metrics", "");
  if (reply.ec || reply.status != 200) co_return false;
  auto primary = gauge(reply.body, R"(vixy_ws_upstream_node{node="primary"})");
  auto backup = gauge(reply.body, R"(vixy_ws_upstream_node{node="backup"})");
  co_return primary && backup && *primary == 1 && *backup == 0;
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

json first_ok_after(const std::vector<Exchange>& exchanges, Clock::time_point t, Clock::time_point until) {
  json out{{"failed", 0}, {"worst_ms", 0.0}};
  bool found = false;
  int failed = 0;
  double worst = 0;
  for (const auto& e : exchanges) {
    if (e.sent < t || e.sent >= until) continue;
    if (!e.ok) ++failed;
    worst = std::max(worst, ms(e.done - e.sent));
    if (e.ok && !found) {
      out["first_ok_ms"] = ms(e.done - t);
      found = true;
    }
  }
  out["failed"] = failed;
  out["worst_ms"] = worst;
  return out;
}

asio::awaitable<void> controller(FailoverRun& run, double settle, double down, double failback_timeout,
                                 asio::io_context& io) {
  auto seconds = [](double s) { return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s)); };
  co_await sleep_for(seconds(settle));
  json out{{"mode", "failover"}};
  bool settled = co_await on_primary(run);
  out["on_primary_before_kill"] = settled;
  auto killed_at = Clock::now();
  auto kill = co_await http_once(run.admin, http::verb::post, "/kill", "{}");
  co_await sleep_for(seconds(down));
  auto restarted_at = Clock::now();
  auto restart = co_await http_once(run.admin, http::verb::post, "/restart", "{}");
  std::optional<Clock::time_point> back_at;
  while (Clock::now() < restarted_at + seconds(failback_timeout)) {
    bool back = co_await on_primary(run);
    if (back) {
      back_at = Clock::now();
      break;
    }
    co_await sleep_for(std::chrono::milliseconds(2));
  }
  co_await sleep_for(std::chrono::milliseconds(300));  // answers to requests sent around the switch
  auto finished_at = Clock::now();

  out["admin_ok"] = !kill.ec && kill.status == 200 && !restart.ec && restart.status == 200;
  out["http_after_kill"] = first_ok_after(run.http, killed_at, restarted_at);
  out["ws_after_kill"] = first_ok_after(run.ws, killed_at, restarted_at);
  out["http_after_restart"] = first_ok_after(run.http, restarted_at, finished_at);
  out["ws_after_restart"] = first_ok_after(run.ws, restarted_at, finished_at);
  for (const auto& [at, height] : run.heads) {
    if (at > killed_at) {
      out["first_head_after_kill_ms"] = ms(at - killed_at);
      break;
    }
  }
  if (back_at) out["failback_ms"] = ms(*back_at - restarted_at);
  std::uint64_t missed = 0, repeated = 0;
  for (std::size_t i = 1; i < run.heads.size(); ++i) {
    auto previous = run.heads[i - 1].second, height = run.heads[i].second;
    if (height <= previous) ++repeated;
    else missed += height - previous - 1;
  }
  out["heads"] = run.heads.size();
  out["heads_missed"] = missed;
  out["heads_repeated"] = repeated;
  std::cout << out.dump() << std::endl;
  bool measured = settled && out["admin_ok"].get<bool>() && back_at && out.contains("first_head_after_kill_ms") &&
                  out["http_after_kill"].contains("first_ok_ms") && out["ws_after_kill"].contains("first_ok_ms");
  run.exit_code = measured ? 0 : 1;
  io.stop();
}

}  // namespace

int run_failover(const Options& options) {
  FailoverRun run;
  run.target = options.endpoint("target");
  run.admin = options.endpoint("primary-admin");
  run.period = std::chrono::microseconds(static_cast<long>(options.number("period-ms", 2) * 1000));
  asio::io_context io(1);
  run.start = Clock::now();
  constexpr int kHttpWorkers = 4;
  for (int i = 0; i < kHttpWorkers; ++i) asio::co_spawn(io, http_pacer(run, i, kHttpWorkers), asio::detached);
  asio::co_spawn(io, ws_pacer(run), asio::detached);
  asio::co_spawn(io, subscriber(run), asio::detached);
  asio::co_spawn(io, controller(run, options.number("settle", 1.5), options.number("down", 1.5),
                                options.number("failback-timeout", 10), io),
                 asio::detached);
  io.run();
  return run.exit_code;
}

}  // namespace vixy::loadgen
