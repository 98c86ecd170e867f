-- A second, independent LSP client: neovim's built-in one (0.7+), run headless.
-- It starts the server command given in $CODELM_SERVER_CMD (a JSON array), opens a Python buffer, asks for
-- textDocument/completion at $CODELM_LINE/$CODELM_CHAR (0-based) and writes what it got to $CODELM_NVIM_OUT as JSON,
-- then stops the client (shutdown + exit) and quits. Errors are written to the output file too.
--   nvim --headless -u NONE -i NONE -n -c "luafile tests/nvim/complete.lua"

local out = os.getenv("CODELM_NVIM_OUT")

local function write(value)
  local f = assert(io.open(out, "w"))
  f:write(vim.fn.json_encode(value))
  f:close()
end

local ok, err = pcall(function()
  local cmd = vim.fn.json_decode(os.getenv("CODELM_SERVER_CMD"))
  local buf = vim.api.nvim_create_buf(true, false)
  vim.api.nvim_buf_set_name(buf, os.getenv("CODELM_NVIM_FILE"))
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.fn.json_decode(os.getenv("CODELM_LINES")))
  vim.api.nvim_set_current_buf(buf)
  vim.bo[buf].filetype = "python"

  local id = vim.lsp.start_client({
    name = "codelm",
    cmd = cmd,
    root_dir = vim.fn.getcwd(),
    init_options = { codelm = { maxNewTokens = tonumber(os.getenv("CODELM_MAX_NEW_TOKENS")) } },
  })
  assert(id, "the LSP client did not start")
  vim.lsp.buf_attach_client(buf, id)
  local ready = vim.wait(60000, function()
    local c = vim.lsp.get_client_by_id(id)
    return c ~= nil and c.server_capabilities ~= nil and next(c.server_capabilities) ~= nil
  end, 50)
  assert(ready, "the server did not finish initialize")

  local line, char = tonumber(os.getenv("CODELM_LINE")), tonumber(os.getenv("CODELM_CHAR"))
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = { line = line, character = char },
  }
  local results, rerr = vim.lsp.buf_request_sync(buf, "textDocument/completion", params, 60000)
  assert(results, "no completion response: " .. tostring(rerr))
  local r = results[id] or {}
  local client = vim.lsp.get_client_by_id(id)
  write({ result = r.result, error = r.err and r.err.message or vim.NIL,
          inline = client.server_capabilities.inlineCompletionProvider or vim.NIL })
  vim.lsp.stop_client(id)
  vim.wait(10000, function() return vim.lsp.get_client_by_id(id) == nil end, 50)
end)
if not ok then write({ error = tostring(err) }) end
vim.cmd("qa!")
