#include "server/router.hpp"

#include <nlohmann/json.hpp>

#include "jsonrpc/jsonrpc.hpp"
#include "server/status.hpp"

namespace vixy::server {
namespace {

namespace bhttp = boost::beast::http;
using net::HttpConnection;
using net::make_response;
using net::Request;
using net::Response;

Response plain_error(const Request& request, bhttp::status status, std::string message) {
  nlohmann::json body{{"code", static_cast<unsigned>(status)}, {"message", std::move(message)}};
  return make_response(request, status, body.dump());
}

Response method_not_allowed(const Request& request, std::string_view allow) {
  auto response = plain_error(request, bhttp::status::method_not_allowed,
                              "method " + std::string(request.method_string()) + " not allowed on " +
                                  std::string(request.target().substr(0, request.target().find('?'))));
  response.set(bhttp::field::allow, allow);
  return response;
}

bool is_get(const Request& request) {
  return request.method() == bhttp::verb::get || request.method() == bhttp::verb::head;
}

Response metrics_response(const observability::ProxyMetrics& metrics, const Request& request) {
  return make_response(request, bhttp::status::ok, metrics.render(), "text/plain; version=0.0.4; charset=utf-8");
}

net::asio::awaitable<void> route_request(Endpoints& endpoints, HttpConnection& connection, Request& request) {
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));

  if (path == "/el" || path == "/el/") {  // not a POST (route() takes those)
    co_await connection.respond(method_not_allowed(request, "POST"));
    co_return;
  }
  if (path == "/el/ws" || path == "/el/ws/") {  // not a GET (route() takes those)
    co_await connection.respond(method_not_allowed(request, "GET"));
    co_return;
  }
  if (path == "/health" || path == "/ready" || path == "/status" || (path == "/metrics" && endpoints.serve_metrics)) {
    if (!is_get(request)) {
      co_await connection.respond(method_not_allowed(request, "GET, HEAD"));
      co_return;
    }
    if (path == "/health") {
      co_await connection.respond(make_response(request, bhttp::status::ok, "OK", "text/plain"));
    } else if (path == "/ready") {
      auto snapshot = endpoints.health.get();
      bool ready = snapshot->el.healthy_count > 0;
      nlohmann::json body{{"ready", ready}, {"healthy_el_nodes", snapshot->el.healthy_count}};
      co_await connection.respond(
          make_response(request, ready ? bhttp::status::ok : bhttp::status::service_unavailable, body.dump()));
    } else if (path == "/status") {
      co_await connection.respond(make_response(
          request, bhttp::status::ok, render_status(*endpoints.health.get(), endpoints.config)));
    } else {
      co_await connection.respond(metrics_response(endpoints.metrics, request));
    }
    co_return;
  }
  co_await connection.respond(plain_error(request, bhttp::status::not_found, "no route for " + std::string(path)));
}

}  // namespace

// Not a coroutine: a WebSocket session lives as long as its client stays, and a frame of this
// function around it (its locals for every other route) would be held all that time. The proxied
// paths go straight to their handlers too: one coroutine frame less for every request.
net::asio::awaitable<void> route(Endpoints& endpoints, HttpConnection& connection, Request& request) {
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  if ((path == "/el" || path == "/el/") && request.method() == bhttp::verb::post) {
    return endpoints.el.handle(connection, request);
  }
  if (path == "/cl" || path.starts_with("/cl/")) return endpoints.cl.handle(connection, request, target.substr(3));
  if ((path == "/el/ws" || path == "/el/ws/") && request.method() == bhttp::verb::get) {
    return endpoints.ws.serve(connection, request);
  }
  return route_request(endpoints, connection, request);
}

net::asio::awaitable<void> route_metrics_only(const observability::ProxyMetrics& metrics, HttpConnection& connection,
                                         Request& request) {
  std::string_view path = request.target().substr(0, request.target().find('?'));
  if (path != "/metrics") {
    co_await connection.respond(plain_error(request, bhttp::status::not_found, "no route for " + std::string(path)));
  } else if (!is_get(request)) {
    co_await connection.respond(method_not_allowed(request, "GET, HEAD"));
  } else {
    co_await connection.respond(metrics_response(metrics, request));
  }
}

}  // namespace vixy::server
