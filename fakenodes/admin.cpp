#include "fakenodes/admin.hpp"

#include <functional>
#include <map>

#include "fakenodes/node.hpp"
#include "jsonrpc/jsonrpc.hpp"
#include "log/log.hpp"

namespace vixy::fakenodes {
namespace {

struct AdminReply {
  http::status status = http::status::ok;
  std::string error;  // empty: {"ok":true,"state":...}
};

AdminReply bad(std::string why) { return {http::status::bad_request, std::move(why)}; }

// A command reads its (already parsed, object) body and acts on the node.
using Command = std::function<AdminReply(FakeNode&, const json&)>;

std::optional<bool> flag(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}

AdminReply set_method(FakeNode& node, const json& body) {
  auto method = body.find("method");
  if (method == body.end() || !method->is_string() || method->get_ref<const std::string&>().empty()) {
    return bad("\"method\" must be a non-empty string");
  }
  MethodOverride override;
  if (auto delay = body.find("delay_ms"); delay != body.end()) {
    if (!delay->is_number_unsigned()) return bad("\"delay_ms\" must be a non-negative integer");
    override.delay = std::chrono::milliseconds(delay->get<std::uint64_t>());
  }
  if (auto error = body.find("error"); error != body.end()) {
    if (!error->is_object()) return bad("\"error\" must be an object");
    if (node.options().kind == NodeKind::cl) {
      auto status = error->find("status");
      if (status == error->end() || !status->is_number_unsigned() || status->get<unsigned>() < 100 ||
          status->get<unsigned>() > 599) {
        return bad("\"error.status\" must be an HTTP status (100-599)");
      }
      override.http_status = status->get<unsigned>();
    } else {
      auto code = error->find("code");
      if (code == error->end() || !code->is_number_integer()) return bad("\"error.code\" must be an integer");
      override.error_code = code->get<int>();
      auto message = error->find("message");
      if (message != error->end() && !message->is_string()) return bad("\"error.message\" must be a string");
      override.error_message = message != error->end() ? message->get<std::string>() : "injected error";
    }
  }
  if (override.delay.count() == 0 && !override.error_code && !override.http_status) {
    return bad("give \"error\" and/or \"delay_ms\"");
  }
  node.set_override(method->get<std::string>(), std::move(override));
  return {};
}

AdminReply clear_method(FakeNode& node, const json& body) {
  auto method = body.find("method");
  if (method == body.end()) {
    node.clear_overrides(std::nullopt);
    return {};
  }
  if (!method->is_string()) return bad("\"method\" must be a string");
  node.clear_overrides(method->get<std::string>());
  return {};
}

AdminReply set_flag(FakeNode& node, const json& body, const char* key, void (FakeNode::*setter)(bool)) {
  auto value = flag(body, key);
  if (!value) return bad(std::string("\"") + key + "\" must be true or false");
  (node.*setter)(*value);
  return {};
}

// {"status": 100} (any 1xx but 101, which switches protocols) precedes every HTTP answer with that
// interim response; {"status": 0} or null ends it.
AdminReply set_interim(FakeNode& node, const json& body) {
  auto status = body.find("status");
  if (status == body.end()) return bad("give \"status\": a 1xx status other than 101, or 0 to stop");
  if (status->is_null() || (status->is_number_unsigned() && status->get<std::uint64_t>() == 0)) {
    node.set_interim(std::nullopt);
    return {};
  }
  if (!status->is_number_unsigned() || status->get<std::uint64_t>() < 100 || status->get<std::uint64_t>() > 199 ||
      status->get<std::uint64_t>() == 101) {
    return bad("\"status\" must be a 1xx status other than 101 (100, 102, 103...), or 0 to stop");
  }
  node.set_interim(status->get<unsigned>());
  return {};
}

// {"depth": k} replaces the last k blocks (the head's included); {"from_height": h} replaces every
// block from h on (what a harness sends to make a second node take the same fork as the first).
// "fork_seed" names the fork; by default the node's own count of forks plus one, so that nodes
// given the same reorgs agree.
AdminReply reorg(FakeNode& node, const json& body) {
  if (node.options().kind != NodeKind::el) return bad("only an EL node reorgs");
  auto depth = body.find("depth");
  auto from = body.find("from_height");
  if ((depth == body.end()) == (from == body.end())) return bad("give \"depth\" or \"from_height\" (one of them)");
  std::uint64_t fork_seed = node.chain().forks().size() + 1;
  if (auto seed = body.find("fork_seed"); seed != body.end()) {
    if (!seed->is_number_unsigned()) return bad("\"fork_seed\" must be a non-negative integer");
    fork_seed = seed->get<std::uint64_t>();
  }
  std::uint64_t from_height = 0;
  const char* key = "from_height";
  if (depth != body.end()) {
    key = "depth";
    if (!depth->is_number_unsigned() || depth->get<std::uint64_t>() == 0 ||
        depth->get<std::uint64_t>() > kMaxReorgDepth) {
      return bad("\"depth\" must be an integer from 1 to " + std::to_string(kMaxReorgDepth));
    }
    std::uint64_t head = node.head();
    if (depth->get<std::uint64_t>() > head) return bad("\"depth\" is deeper than the chain");
    from_height = head - depth->get<std::uint64_t>() + 1;
  } else {
    if (!from->is_number_unsigned()) return bad("\"from_height\" must be a positive integer");
    from_height = from->get<std::uint64_t>();
  }
  if (auto error = node.reorg(from_height, fork_seed); !error.empty()) {
    return bad(std::string("\"") + key + "\" " + error);
  }
  return {};
}

const std::map<std::string, Command, std::less<>>& post_commands() {
  static const std::map<std::string, Command, std::less<>> commands = {
      {"/lag",
       [](FakeNode& node, const json& body) {
         auto blocks = body.find("blocks");
         if (blocks == body.end() || !blocks->is_number_unsigned()) {
           return bad("\"blocks\" must be a non-negative integer");
         }
         node.set_lag(blocks->get<std::uint64_t>());
         return AdminReply{};
       }},
      {"/pause",
       [](FakeNode& node, const json&) {
         node.pause();
         return AdminReply{};
       }},
      {"/resume",
       [](FakeNode& node, const json&) {
         node.resume();
         return AdminReply{};
       }},
      {"/method", set_method},
      {"/method/clear", clear_method},
      {"/reorg", reorg},
      {"/interim", set_interim},
      {"/syncing",
       [](FakeNode& n, const json& b) { return set_flag(n, b, "syncing", &FakeNode::set_syncing); }},
      {"/healthy",
       [](FakeNode& n, const json& b) { return set_flag(n, b, "healthy", &FakeNode::set_healthy); }},
      {"/silent", [](FakeNode& n, const json& b) { return set_flag(n, b, "silent", &FakeNode::set_silent); }},
      {"/drop-subscriptions",
       [](FakeNode& node, const json&) {
         node.drop_subscriptions();
         return AdminReply{};
       }},
      {"/close-connections",
       [](FakeNode& node, const json&) {
         node.close_connections();
         return AdminReply{};
       }},
      {"/kill",
       [](FakeNode& node, const json&) {
         node.kill();
         return AdminReply{};
       }},
      {"/restart",
       [](FakeNode& node, const json&) {
         if (node.listening()) return AdminReply{http::status::conflict, "already listening"};
         if (auto ec = node.restart()) return AdminReply{http::status::internal_server_error, ec.message()};
         return AdminReply{};
       }},
  };
  return commands;
}

Response admin_response(FakeNode& node, const Request& request) {
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  auto reply = [&](const AdminReply& r) {
    json body = r.error.empty() ? json{{"ok", true}, {"state", node.state()}}
                                : json{{"ok", false}, {"error", r.error}};
    return net::make_response(request, r.status, body.dump());
  };

  if (path == "/state") {
    if (request.method() != http::verb::get)
      return reply({http::status::method_not_allowed, "use GET /state"});
    return reply({});
  }
  const auto& commands = post_commands();
  auto command = commands.find(path);
  if (command == commands.end())
    return reply({http::status::not_found, "no admin command " + std::string(path)});
  if (request.method() != http::verb::post) {
    return reply({http::status::method_not_allowed, "use POST " + std::string(path)});
  }
  json body = json::object();
  if (!request.body().empty()) {
    auto parsed = jsonrpc::parse(request.body());
    if (!parsed || !parsed->is_object()) return reply(bad("body must be a JSON object"));
    body = std::move(*parsed);
  }
  AdminReply result = command->second(node, body);
  log::info("admin", {{"command", path}, {"body", body.dump()}, {"status", static_cast<int>(result.status)}});
  return reply(result);
}

}  // namespace

asio::awaitable<void> serve_admin(std::shared_ptr<FakeNode> node, HttpConnection& connection,
                                  Request& request) {
  // The response is built outside the co_await: GCC 12 may destroy temporaries of a co_await
  // expression twice.
  Response response = admin_response(*node, request);
  co_await connection.respond(std::move(response));
}

}  // namespace vixy::fakenodes
