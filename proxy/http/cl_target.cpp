#include "http/cl_target.hpp"

#include <algorithm>
#include <unordered_set>
#include <vector>

#include "text/ascii.hpp"

namespace vixy::http {
namespace {

// `text` with its percent-escapes (and, for query parameters, '+') decoded; nullopt on a
// malformed escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      int high = text::hex_digit_value(text[i + 1]);
      int low = text::hex_digit_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += plus_is_space && c == '+' ? ' ' : c;
    }
  }
  return out;
}

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

std::optional<std::string> segment_problem(std::string_view raw, bool last) {
  if (raw.empty()) {
    if (last) return std::nullopt;  // one trailing '/' cannot leave any prefix
    return "bad path: empty segment (\"//\")";
  }
  auto decoded = percent_decode(raw, false);
  if (!decoded) return "bad path: malformed percent-escape";
  for (unsigned char c : *decoded) {
    if (is_control(c)) return "bad path: control byte";
    if (c == '\\') return "bad path: backslash";
    if (c == '/') return "bad path: encoded slash (%2F)";
  }
  // Servlet containers drop ";parameters" before resolving "..", and some servers drop trailing
  // dots and spaces: a segment of only dots (and spaces) is never a route.
  std::string_view name = *decoded;
  name = name.substr(0, name.find(';'));
  bool dots_only = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) { return c == '.' || c == ' '; });
  if (dots_only || name.empty()) return "bad path: dot segment (\".\" or \"..\")";
  return std::nullopt;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    auto at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

// A query parameter's name as a server compares it: decoded, and lower case, since some servers
// ignore case.
std::string parameter_name(std::string_view parameter) {
  std::string_view raw = parameter.substr(0, parameter.find('='));
  std::string name = percent_decode(raw, true).value_or(std::string(raw));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

}  // namespace

std::optional<std::string> cl_path_problem(std::string_view client_suffix) {
  if (client_suffix.find('#') != std::string_view::npos) return "bad path: '#' in target";
  std::string_view path = client_suffix.substr(0, client_suffix.find('?'));
  if (path.empty()) return std::nullopt;
  if (path.front() != '/') return "bad path: must start with '/'";
  auto segments = split(path.substr(1), '/');
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (auto problem = segment_problem(segments[i], i + 1 == segments.size())) return problem;
  }
  return std::nullopt;
}

Result<std::string> cl_upstream_target(const net::UpstreamUrl& url, std::string_view client_suffix) {
  if (auto problem = cl_path_problem(client_suffix)) return Problem{std::move(*problem)};
  auto question = client_suffix.find('?');
  std::string_view path = client_suffix.substr(0, question);
  std::string target = url.target(path);  // the URL's path and query, then the client's path

  if (question == std::string_view::npos) return target;
  std::unordered_set<std::string> configured;
  if (!url.query.empty()) {
    for (auto parameter : split(url.query, '&')) configured.insert(parameter_name(parameter));
  }
  bool has_query = !url.query.empty();
  for (auto parameter : split(client_suffix.substr(question + 1), '&')) {
    if (parameter.empty() || configured.contains(parameter_name(parameter))) continue;
    target += has_query ? '&' : '?';
    target += parameter;
    has_query = true;
  }
  return target;
}

}  // namespace vixy::http
