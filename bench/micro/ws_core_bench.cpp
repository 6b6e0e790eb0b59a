// The WebSocket session core's hot paths (ws/session_core.cpp): a client request rewritten to the
// proxy's id and sent upstream, the node's answer mapped back to the client's id, and a
// subscription notification translated to the client's subscription id. The core is driven
// exactly as the socket adapter drives it; only the node's answers are made up here.
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "jsonrpc/jsonrpc.hpp"
#include "jsonrpc/raw.hpp"
#include "messages.hpp"
#include "ws/multiplexer.hpp"
#include "ws/session_core.hpp"

namespace {

namespace ws = vixy::ws;
namespace raw = vixy::jsonrpc::raw;

// Requests are answered in chunks outside the timed region, so pending state stays as small as a
// busy real session's and the bound on pending requests is never reached.
constexpr std::size_t kChunk = 256;

// A newHeads notification as geth sends it (a full header, ~600 bytes).
const std::string kHeader =
    R"({"parentHash":"0x1e77d8f1267348b516ebc4f4da1e2aa59f85f0cbd853949500ffac8bfc38ba14","sha3Uncles":"0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347",)"
    R"("miner":"0x95222290dd7278aa3ddd389cc1e1d165cc4bafe5","stateRoot":"0x7d8a8d0b4a1fa6e4b87ad0d2b4f2c2c0a9f9b1c0e5e0c4f4b4a4e2b3c2d1e0f9",)"
    R"("transactionsRoot":"0x3c1b5c0e2f5d3b3a1a0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a","receiptsRoot":"0x4d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c",)"
    R"("logsBloom":"0x00","difficulty":"0x0","number":"0x12a05f2","gasLimit":"0x1c9c380","gasUsed":"0xe4e1c0","timestamp":"0x65f1a2b3",)"
    R"("extraData":"0x6265617665726275696c642e6f7267","mixHash":"0x5e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d",)"
    R"("nonce":"0x0000000000000000","baseFeePerGas":"0x3b9aca00","hash":"0x9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e"})";

struct Session {
  ws::SessionCore core{{{"primary", vixy::config::Tier::primary}, {"backup", vixy::config::Tier::backup}},
                       ws::SessionSettings{},
                       7};
  ws::TimePoint now = ws::Clock::now();
  ws::ConnectionId connection = 0;

  // `connected`: the upstream connection the core asks for is reported open at once (else the
  // caller does, as a multiplexer's channel would).
  explicit Session(bool connected = true) {
    core.start({0, 1}, now);
    for (auto& action : core.take_actions()) {
      if (auto* connect = std::get_if<ws::Connect>(&action)) connection = connect->connection;
    }
    if (connection == 0) throw std::runtime_error("the session core asked for no upstream");
    if (!connected) return;
    core.upstream_connected(connection, now);
    core.take_actions();
  }

  // Sends `text` from the client and appends what went upstream to `sent`.
  void request(const std::string& text, std::vector<std::string>& sent) {
    core.client_text(text, now);
    for (auto& action : core.take_actions()) {
      if (auto* send = std::get_if<ws::SendUpstream>(&action)) sent.push_back(std::move(send->text));
    }
  }
  // What a node answers to one request the core sent it.
  static std::string answer_to(std::string_view upstream_request, std::string_view result) {
    auto id = raw::member(upstream_request, "id");
    if (!id) throw std::runtime_error("the core sent a request without an id");
    return std::string(R"({"jsonrpc":"2.0","id":)") + std::string(id->of(upstream_request)) + R"(,"result":)" +
           std::string(result) + "}";
  }
  void answer_all(std::vector<std::string>& sent) {
    for (const auto& text : sent) {
      core.upstream_text(connection, answer_to(text, R"("0x12a05f2")"), now);
      core.take_actions();
    }
    sent.clear();
  }
};

void client_to_upstream(benchmark::State& state, const std::string& request) {
  Session session;
  std::vector<std::string> sent;
  for (auto _ : state) {
    session.request(request, sent);
    if (sent.size() >= kChunk) {
      state.PauseTiming();
      session.answer_all(sent);
      state.ResumeTiming();
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * request.size()));
}

void BM_WsClientToUpstream_BlockNumber(benchmark::State& state) {
  client_to_upstream(state, vixy::bench::block_number_request(42));
}
void BM_WsClientToUpstream_EthCall4K(benchmark::State& state) {
  client_to_upstream(state, vixy::bench::eth_call_request(42));
}
void BM_WsClientToUpstream_Batch10(benchmark::State& state) {
  client_to_upstream(state, vixy::bench::batch_request(10));
}

// One iteration: the node's answers to one client message (1 or `batch` requests) mapped back.
void upstream_to_client(benchmark::State& state, const std::string& request, std::string_view result) {
  Session session;
  std::vector<std::string> sent;
  std::vector<std::string> answers;
  std::size_t per_message = 0;
  std::size_t next = 0;
  for (auto _ : state) {
    if (next == answers.size()) {
      state.PauseTiming();
      answers.clear();
      next = 0;
      for (std::size_t i = 0; i < kChunk; ++i) session.request(request, sent);
      per_message = sent.size() / kChunk;
      for (const auto& text : sent) answers.push_back(Session::answer_to(text, result));
      sent.clear();
      state.ResumeTiming();
    }
    for (std::size_t i = 0; i < per_message; ++i) {
      session.core.upstream_text(session.connection, answers[next++], session.now);
    }
    auto actions = session.core.take_actions();
    benchmark::DoNotOptimize(actions);
  }
}

void BM_WsUpstreamToClient_BlockNumber(benchmark::State& state) {
  upstream_to_client(state, vixy::bench::block_number_request(42), R"("0x12a05f2")");
}
// A 4 KiB answer to a 4 KiB eth_call: the id is spliced, the result is not parsed.
void BM_WsUpstreamToClient_EthCall4K(benchmark::State& state) {
  upstream_to_client(state, vixy::bench::eth_call_request(42), "\"0x" + std::string(4090, 'b') + "\"");
}
void BM_WsUpstreamToClient_Batch10(benchmark::State& state) {
  upstream_to_client(state, vixy::bench::batch_request(10), R"("0x12a05f2")");
}

// Heads `first` .. `first + count - 1` of one chain: the gapless stream drops a head it already
// delivered, fills behind one whose parent it never saw and takes a lower number for a reorg, so
// each notification must be the next head on top of the last, numbers rising.
std::vector<std::string> linked_notifications(std::size_t first, std::size_t count) {
  auto hash = [](std::size_t i) {
    std::string hex = "0000000000000000000000000000000000000000000000000000000000000000";
    std::string tail = std::to_string(i + 1);
    hex.replace(hex.size() - tail.size(), tail.size(), tail);
    return "0x" + hex;
  };
  auto replace_value = [](std::string& text, const std::string& key, const std::string& value) {
    auto at = text.find("\"" + key + "\":\"") + key.size() + 4;
    text.replace(at, text.find('"', at) - at, value);
  };
  std::vector<std::string> out;
  for (std::size_t i = first; i < first + count; ++i) {
    std::string header = kHeader;
    replace_value(header, "parentHash", hash(i == 0 ? 999'999'999 : i - 1));
    replace_value(header, "hash", hash(i));
    replace_value(header, "number", vixy::jsonrpc::to_quantity(20'000'000 + i));
    out.push_back(R"({"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"0x9cef478923ff08bf67fde6c64013158d","result":)" +
                  header + "}}");
  }
  return out;
}

void BM_WsNotification_NewHeads(benchmark::State& state) {
  Session session;
  std::vector<std::string> sent;
  session.request(R"({"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]})", sent);
  session.core.upstream_text(session.connection, Session::answer_to(sent.at(0), R"("0x9cef478923ff08bf67fde6c64013158d")"),
                             session.now);
  session.core.take_actions();
  constexpr std::size_t kBatch = 4096;
  std::size_t first = 0;
  auto notifications = linked_notifications(first, kBatch);
  std::size_t next = 0;
  std::int64_t bytes = 0;
  for (auto _ : state) {
    if (next == notifications.size()) {
      state.PauseTiming();  // the next stretch of the chain, made outside the timed region
      first += kBatch;
      notifications = linked_notifications(first, kBatch);
      next = 0;
      state.ResumeTiming();
    }
    const std::string& notification = notifications[next++];
    session.core.upstream_text(session.connection, notification, session.now);
    auto actions = session.core.take_actions();
    if (actions.size() != 1) {
      state.SkipWithError("the notification was not delivered");
      break;
    }
    bytes += static_cast<std::int64_t>(notification.size());
    benchmark::DoNotOptimize(actions);
  }
  state.SetBytesProcessed(bytes);
}

// One node notification fanned out to `state.range(0)` sessions subscribed to newHeads over one
// shared socket (ws/multiplexer.hpp): read once by the multiplexer, then each session's core
// splices its client's id and follows the head. Items are notifications delivered to a session, so
// the time per item compares directly with BM_WsNotification_NewHeads (a session on a socket of its
// own, reading every notification itself).
void BM_WsFanout_NewHeads(benchmark::State& state) {
  namespace mux = ws::mux;
  const auto sessions = static_cast<std::size_t>(state.range(0));
  mux::Multiplexer node(mux::Settings{1});
  std::vector<std::unique_ptr<Session>> cores;
  std::map<mux::ChannelId, std::size_t> owner;
  std::vector<std::string> to_node;
  mux::SocketId socket = 0;
  std::size_t delivered = 0;
  // Carries out the multiplexer's actions as NodeMux would, with the node's socket made up here.
  auto run = [&] {
    for (auto actions = node.take_actions(); !actions.empty(); actions = node.take_actions()) {
      for (auto& action : actions) {
        if (auto* open = std::get_if<mux::OpenSocket>(&action)) {
          socket = open->socket;
          node.socket_open(socket);
        } else if (auto* text = std::get_if<mux::ToSocket>(&action)) {
          to_node.push_back(std::move(text->text));
        } else if (auto* up = std::get_if<mux::ChannelUp>(&action)) {
          auto& session = *cores[owner.at(up->channel)];
          session.core.upstream_connected(session.connection, session.now);
        } else if (auto* answer = std::get_if<mux::ToChannel>(&action)) {
          auto& session = *cores[owner.at(answer->channel)];
          session.core.upstream_text(session.connection, answer->text, session.now);
        } else if (auto* note = std::get_if<mux::Notify>(&action)) {
          auto& session = *cores[owner.at(note->channel)];
          session.core.upstream_notification(session.connection, *note->note, note->alias, session.now);
          delivered += session.core.take_actions().size();
        }
      }
    }
  };
  for (std::size_t i = 0; i < sessions; ++i) {
    cores.push_back(std::make_unique<Session>(false));
    auto& session = *cores.back();
    owner[i + 1] = i;
    node.open(i + 1);
    run();
    session.core.take_actions();
    session.core.client_text(R"({"jsonrpc":"2.0","id":1,"method":"eth_subscribe","params":["newHeads"]})", session.now);
    for (auto& action : session.core.take_actions()) {
      if (auto* send = std::get_if<ws::SendUpstream>(&action)) node.send(i + 1, send->text);
    }
    run();
    for (const auto& text : to_node) node.socket_text(socket, Session::answer_to(text, R"("0xabc")"));
    to_node.clear();
    run();
    session.core.take_actions();
  }
  constexpr std::size_t kBatch = 1024;
  std::size_t first = 0;
  auto notifications = linked_notifications(first, kBatch);
  for (auto& text : notifications) text.replace(text.find("0x9cef478923ff08bf67fde6c64013158d"), 34, "0xabc");
  std::size_t next = 0;
  delivered = 0;
  for (auto _ : state) {
    if (next == notifications.size()) {
      state.PauseTiming();
      first += kBatch;
      notifications = linked_notifications(first, kBatch);
      for (auto& text : notifications) text.replace(text.find("0x9cef478923ff08bf67fde6c64013158d"), 34, "0xabc");
      next = 0;
      state.ResumeTiming();
    }
    node.socket_text(socket, notifications[next++]);
    run();
  }
  if (delivered != state.iterations() * sessions) state.SkipWithError("a session was not notified");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * sessions));
}

}  // namespace

BENCHMARK(BM_WsFanout_NewHeads)->Arg(1)->Arg(100)->Arg(1000);
BENCHMARK(BM_WsClientToUpstream_BlockNumber);
BENCHMARK(BM_WsClientToUpstream_EthCall4K);
BENCHMARK(BM_WsClientToUpstream_Batch10);
BENCHMARK(BM_WsUpstreamToClient_BlockNumber);
BENCHMARK(BM_WsUpstreamToClient_EthCall4K);
BENCHMARK(BM_WsUpstreamToClient_Batch10);
BENCHMARK(BM_WsNotification_NewHeads);
