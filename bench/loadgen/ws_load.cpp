// WebSocket load: request/response round trips per second, notification throughput to many
// newHeads subscribers, and a crowd of idle sessions held open while the script measures the
// proxy's resident memory.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <iostream>

#include "common.hpp"

namespace vixy::loadgen {

asio::awaitable<bool> ws_open(net::WsClient& ws, const tcp::endpoint& target, const std::string& path) {
  net::UpstreamUrl url;
  url.host = target.address().to_string();
  url.port = std::to_string(target.port());
  url.path = path;
  net::WsClientOptions options;
  options.connect_timeout = std::chrono::seconds(30);
  options.idle_timeout = std::chrono::milliseconds(0);  // a benchmark client sends no pings of its own
  options.max_message_size = 16 * 1024 * 1024;
  options.user_agent = "vixy-loadgen";
  auto ec = co_await ws.connect(url, options);
  co_return !ec;
}

namespace {

Clock::duration seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

// The clock starts once every session is open (and subscribed): opening hundreds of sessions on a
// slow (sanitized, loaded) build must not eat into the measured time.
struct WsRun {
  tcp::endpoint target;
  std::string path;
  int sessions = 0;
  double warmup = 0.5, duration = 3;
  Clock::time_point start, measure_from, end;
  std::uint64_t ok = 0, errors = 0, failed_sessions = 0;
  Latencies latencies;
  double cpu_at_start = 0;
  int arrived = 0;
  std::unique_ptr<asio::steady_timer> go;

  asio::awaitable<void> all_open() {
    if (!go) go = std::make_unique<asio::steady_timer>(co_await asio::this_coro::executor, Clock::time_point::max());
    if (++arrived == sessions) {
      start = Clock::now();
      cpu_at_start = cpu_seconds();
      measure_from = start + seconds(warmup);
      end = measure_from + seconds(duration);
      go->cancel();
      co_return;
    }
    co_await go->async_wait(use_tuple);
  }
};

asio::awaitable<void> rtt_worker(WsRun& run) {
  net::WsClient ws(co_await asio::this_coro::executor);
  bool opened = co_await ws_open(ws, run.target, run.path);
  co_await run.all_open();
  if (!opened) {
    ++run.failed_sessions;
    co_return;
  }
  const std::string request = body_of("blockNumber");
  while (Clock::now() < run.end) {
    auto sent = Clock::now();
    beast::error_code write_ec = co_await ws.write(request);
    if (write_ec) break;
    auto [read_ec, answer] = co_await ws.read();
    if (read_ec) break;
    auto done = Clock::now();
    if (done < run.measure_from) continue;
    if (answer.find("\"result\"") == std::string::npos) {
      ++run.errors;
    } else {
      ++run.ok;
      run.latencies.add(done - sent);
    }
  }
  ws.abort();
}

asio::awaitable<void> notify_worker(WsRun& run) {
  auto executor = co_await asio::this_coro::executor;
  net::WsClient ws(executor);
  bool opened = co_await ws_open(ws, run.target, run.path);
  if (!opened) {
    ++run.failed_sessions;
    co_await run.all_open();
    co_return;
  }
  const std::string subscribe = R"({"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]})";
  beast::error_code write_ec = co_await ws.write(subscribe);
  auto [answer_ec, answer] = co_await ws.read();
  co_await run.all_open();
  if (write_ec || answer_ec) {
    ++run.failed_sessions;
    co_return;
  }
  // Reads stop at the end of the run: the timer closes the socket under a pending read.
  asio::steady_timer stop(executor, run.end);
  stop.async_wait([&ws](beast::error_code ec) {
    if (!ec) ws.abort();
  });
  while (true) {
    auto [read_ec, message] = co_await ws.read();
    if (read_ec) break;
    if (Clock::now() < run.measure_from) continue;
    if (message.find("eth_subscription") != std::string::npos) ++run.ok;
  }
}

}  // namespace

namespace {

// Runs `count` sessions of `worker` on one thread until the run ends, then prints one JSON line:
// what every mode reports, plus `describe`'s fields. Exit 0 when something was measured and every
// session opened.
int run_ws_sessions(const Options& options, const char* mode, int count, asio::awaitable<void> (*worker)(WsRun&),
                    const std::function<void(WsRun&, json&)>& describe) {
  WsRun run;
  run.target = options.endpoint("target");
  run.path = options.text("path", "/el/ws");
  run.duration = options.number("duration", 3);
  run.warmup = options.number("warmup", 0.5);
  run.sessions = count;
  asio::io_context io(1);
  for (int i = 0; i < count; ++i) asio::co_spawn(io, worker(run), log::report_exception(mode));
  io.run();
  run.go.reset();
  double wall = std::chrono::duration<double>(Clock::now() - run.start).count();
  json out{{"mode", mode},
           {"ok", run.ok},
           {"failed_sessions", run.failed_sessions},
           {"per_second", static_cast<double>(run.ok) / run.duration},
           {"loadgen_cpu", (cpu_seconds() - run.cpu_at_start) / wall}};
  describe(run, out);
  std::cout << out.dump() << std::endl;
  return run.ok > 0 && run.failed_sessions == 0 ? 0 : 1;
}

}  // namespace

int run_ws_rtt(const Options& options) {
  int concurrency = static_cast<int>(options.number("concurrency", 32));
  return run_ws_sessions(options, "ws-rtt", concurrency, rtt_worker, [concurrency](WsRun& run, json& out) {
    out["concurrency"] = concurrency;
    out["errors"] = run.errors;
    out["latency"] = run.latencies.summary();
  });
}

int run_ws_notify(const Options& options) {
  int subscribers = static_cast<int>(options.number("subscribers", 100));
  return run_ws_sessions(options, "ws-notify", subscribers, notify_worker,
                         [subscribers](WsRun&, json& out) { out["subscribers"] = subscribers; });
}

namespace {

// What one session has seen of the chain, with --check: heads must come one height after another.
struct HeadTrack {
  std::uint64_t last = 0;  // 0: none yet
  std::uint64_t heads = 0, gaps = 0, duplicates = 0, unreadable = 0;
};

struct IdleRun {
  tcp::endpoint target;
  std::string path;
  int remaining = 0;  // sessions still opening
  int ready = 0, failed = 0;
  bool subscribe = false;
  bool read = false;   // read (and drop) what arrives after the first answer
  bool check = false;  // and check the heads' heights
  std::vector<std::unique_ptr<net::WsClient>> sessions;
  std::vector<std::unique_ptr<HeadTrack>> tracks;
};

void track_head(HeadTrack& track, const std::string& text) {
  std::uint64_t height = 0;
  try {  // anything but a head with a hex number (a type error on the way included) is unreadable
    const auto message = json::parse(text);
    height = std::stoull(message.at("params").at("result").at("number").get<std::string>(), nullptr, 16);
  } catch (const std::exception&) {
    ++track.unreadable;
    return;
  }
  ++track.heads;
  if (track.last != 0 && height <= track.last) ++track.duplicates;  // the fake nodes do not reorg here
  if (track.last != 0 && height > track.last + 1) ++track.gaps;
  if (height > track.last) track.last = height;
}

// Notifications are read and dropped (with --check, after their height is checked), so that none
// waits unread in vixy while the nodes make blocks.
asio::awaitable<void> drain(net::WsClient& ws, HeadTrack* track) {
  for (;;) {
    auto [ec, text] = co_await ws.read();
    if (ec) co_return;
    if (track != nullptr) track_head(*track, text);
  }
}

json head_summary(const IdleRun& run) {
  std::uint64_t heads = 0, gaps = 0, duplicates = 0, unreadable = 0, max_last = 0;
  std::uint64_t min_last = run.tracks.empty() ? 0 : UINT64_MAX;
  for (const auto& track : run.tracks) {
    heads += track->heads;
    gaps += track->gaps;
    duplicates += track->duplicates;
    unreadable += track->unreadable;
    min_last = std::min(min_last, track->last);
    max_last = std::max(max_last, track->last);
  }
  return json{{"mode", "ws-idle-heads"}, {"sessions", run.tracks.size()}, {"heads", heads}, {"gaps", gaps},
              {"duplicates", duplicates}, {"unreadable", unreadable}, {"min_last", min_last},
              {"max_last", max_last}};
}

// One round trip proves the proxy has connected the session upstream before memory is measured;
// with --subscribe it is an eth_subscribe to newHeads (the script pauses the node's blocks, so the
// session stays idle and no notification waits unread).
asio::awaitable<bool> round_trip(net::WsClient& ws, const std::string& request) {
  beast::error_code write_ec = co_await ws.write(request);
  if (write_ec) co_return false;
  auto [read_ec, answer] = co_await ws.read();
  co_return !read_ec && answer.find("\"error\"") == std::string::npos;
}

asio::awaitable<void> idle_opener(IdleRun& run, int count) {
  const std::string request =
      run.subscribe ? R"({"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]})" : body_of("blockNumber");
  for (int i = 0; i < count; ++i) {
    auto ws = std::make_unique<net::WsClient>(co_await asio::this_coro::executor);
    bool ok = co_await ws_open(*ws, run.target, run.path);
    if (ok) ok = co_await round_trip(*ws, request);
    if (ok) {
      ++run.ready;
      HeadTrack* track = nullptr;
      if (run.check) track = run.tracks.emplace_back(std::make_unique<HeadTrack>()).get();
      if (run.read) asio::co_spawn(co_await asio::this_coro::executor, drain(*ws, track), asio::detached);
      run.sessions.push_back(std::move(ws));
    } else {
      ++run.failed;
    }
  }
  if (--run.remaining == 0) {
    json out{{"mode", "ws-idle"}, {"ready", run.ready}, {"failed", run.failed}, {"subscribed", run.subscribe}};
    std::cout << out.dump() << std::endl;
  }
}

}  // namespace

int run_ws_idle(const Options& options) {
  IdleRun run;
  run.target = options.endpoint("target");
  run.path = options.text("path", "/el/ws");
  run.subscribe = options.number("subscribe", 0) != 0;
  run.check = options.number("check", 0) != 0;
  run.read = run.check || options.number("read", 0) != 0;
  int sessions = static_cast<int>(options.number("sessions", 1000));
  int openers = std::min(sessions, 64);
  asio::io_context io(1);
  run.remaining = openers;
  for (int i = 0; i < openers; ++i) {
    int count = sessions / openers + (i < sessions % openers ? 1 : 0);
    asio::co_spawn(io, idle_opener(run, count), log::report_exception("idle opener"));
  }
  // Held until the script has measured and sends SIGTERM; the sessions then close with the process.
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) {
    if (run.check) std::cout << head_summary(run).dump() << std::endl;
    io.stop();
  });
  io.run();
  run.sessions.clear();  // while their io_context still exists
  return 0;
}

}  // namespace vixy::loadgen
