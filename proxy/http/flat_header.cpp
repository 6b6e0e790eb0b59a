#include "http/flat_header.hpp"

namespace vixy::http {
namespace {

void append_fields(std::string& out, const boost::beast::http::fields& fields) {
  for (const auto& field : fields) {
    out += field.name_string();
    out += ": ";
    out += field.value();
    out += "\r\n";
  }
  out += "\r\n";
}

std::size_t fields_size(const boost::beast::http::fields& fields) {
  std::size_t size = 2;
  for (const auto& field : fields) size += field.name_string().size() + field.value().size() + 4;
  return size;
}

void append_version(std::string& out, unsigned version) {
  out += "HTTP/";
  out += static_cast<char>('0' + version / 10);
  out += '.';
  out += static_cast<char>('0' + version % 10);
}

}  // namespace

std::string flat_header(const boost::beast::http::response_header<>& header) {
  std::string out;
  out.reserve(32 + header.reason().size() + fields_size(header));
  append_version(out, header.version());
  out += ' ';
  out += std::to_string(header.result_int());
  out += ' ';
  out += header.reason();
  out += "\r\n";
  append_fields(out, header);
  return out;
}

std::string flat_header(const boost::beast::http::request_header<>& header) {
  std::string out;
  out.reserve(16 + header.method_string().size() + header.target().size() + fields_size(header));
  out += header.method_string();
  out += ' ';
  out += header.target();
  out += ' ';
  append_version(out, header.version());
  out += "\r\n";
  append_fields(out, header);
  return out;
}

}  // namespace vixy::http
