#include "server/router.hpp"

#include <nlohmann/json.hpp>

#include "http/cl_handler.hpp"
#include "http/el_handler.hpp"
#include "jsonrpc/jsonrpc.hpp"
#include "observability/status.hpp"

namespace vixy::server {
namespace {

Response plain_error(const Request& request, http::status status, std::string message) {
  nlohmann::json body{{"code", static_cast<unsigned>(status)}, {"message", std::move(message)}};
  return make_response(request, status, body.dump());
}

Response method_not_allowed(const Request& request, std::string_view allow) {
  auto response = plain_error(request, http::status::method_not_allowed,
                              "method " + std::string(request.method_string()) + " not allowed on " +
                                  std::string(request.target().substr(0, request.target().find('?'))));
  response.set(http::field::allow, allow);
  return response;
}

bool is_get(const Request& request) {
  return request.method() == http::verb::get || request.method() == http::verb::head;
}

Response metrics_response(ProxyContext& context, const Request& request) {
  return make_response(request, http::status::ok, context.metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace

asio::awaitable<void> route(ProxyContext& context, const RouterOptions& options, HttpConnection& connection,
                            Request& request) {
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));

  if (path == "/el" || path == "/el/") {
    if (request.method() != http::verb::post) {
      co_await connection.respond(method_not_allowed(request, "POST"));
      co_return;
    }
    co_await vixy::http::handle_el(context, connection, request);
    co_return;
  }
  if (path == "/cl" || path.starts_with("/cl/")) {
    co_await vixy::http::handle_cl(context, connection, request, target.substr(3));
    co_return;
  }
  if (path == "/el/ws" || path == "/el/ws/") {
    if (request.method() != http::verb::get) {
      co_await connection.respond(method_not_allowed(request, "GET"));
      co_return;
    }
    co_await context.ws.serve(connection, request);
    co_return;
  }
  if (path == "/health" || path == "/ready" || path == "/status" || (path == "/metrics" && options.serve_metrics)) {
    if (!is_get(request)) {
      co_await connection.respond(method_not_allowed(request, "GET, HEAD"));
      co_return;
    }
    if (path == "/health") {
      co_await connection.respond(make_response(request, http::status::ok, "OK", "text/plain"));
    } else if (path == "/ready") {
      auto snapshot = context.monitor.snapshot();
      bool ready = snapshot->el.healthy_count > 0;
      nlohmann::json body{{"ready", ready}, {"healthy_el_nodes", snapshot->el.healthy_count}};
      co_await connection.respond(
          make_response(request, ready ? http::status::ok : http::status::service_unavailable, body.dump()));
    } else if (path == "/status") {
      co_await connection.respond(make_response(
          request, http::status::ok, observability::render_status(*context.monitor.snapshot(), context.config)));
    } else {
      co_await connection.respond(metrics_response(context, request));
    }
    co_return;
  }
  co_await connection.respond(plain_error(request, http::status::not_found, "no route for " + std::string(path)));
}

asio::awaitable<void> route_metrics_only(ProxyContext& context, HttpConnection& connection, Request& request) {
  std::string_view path = request.target().substr(0, request.target().find('?'));
  if (path != "/metrics") {
    co_await connection.respond(plain_error(request, http::status::not_found, "no route for " + std::string(path)));
  } else if (!is_get(request)) {
    co_await connection.respond(method_not_allowed(request, "GET, HEAD"));
  } else {
    co_await connection.respond(metrics_response(context, request));
  }
}

}  // namespace vixy::server
