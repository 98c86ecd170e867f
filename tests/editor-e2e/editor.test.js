// The packaged CodeLm extension in code-server (VS Code 1.100.3 in the browser), driven by headless Chromium:
// ghost text from the real `codelm serve` with a tiny checkpoint trained in this run, accepted with Tab; and with a
// broken server path, the error state and no ghost text. Run through run.sh, which installs everything first.
const assert = require('assert');
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const http = require('http');
const net = require('net');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const repo = path.resolve(__dirname, '..', '..');
// The extension's own test helpers (compiled by `npm run build` in vscode-extension): the same tiny checkpoint
// recipe and codelm.dll lookup as its protocol-level integration test.
const helpers = path.join(repo, 'vscode-extension', 'out', 'test', 'integration');
const { buildTinyCheckpoint, TRAINED_DOCUMENT, HELPERS, CONTEXT_DOCUMENT } = require(path.join(helpers, 'tinyCheckpoint.js'));
const { codelmDll } = require(path.join(helpers, 'codelmServer.js'));

const codeServer = process.env.CODE_SERVER_BIN;
const vsix = process.env.CODELM_VSIX;
const artifacts = path.join(__dirname, 'artifacts');

// On disk, greet's body is empty; pressing Enter after `def greet(name):` auto-indents into the body, which makes
// the editor text exactly the document the tiny model was trained to complete.
const ON_DISK = TRAINED_DOCUMENT.text.replace('\n    \n', '\n\n');
const ACCEPTED = `def greet(name):\n    ${TRAINED_DOCUMENT.expected}\n`;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function healthy(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

async function until(what, check, timeoutMs, log = () => '') {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${log()}`);
}

function writeSettings(userData, settings) {
  const file = path.join(userData, 'User', 'settings.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // In place, as a person editing settings.json would: the editor watches this file (a rename would swap the inode
  // under its watcher and go unnoticed).
  fs.writeFileSync(file, JSON.stringify(settings, null, 2));
}

describe('CodeLm in VS Code (code-server + headless Chromium)', function () {
  let work, extensions, checkpoint, browser;
  const servers = [];
  let serverLog = '';
  let page;

  /** Where the extension's completion events go for the editor named `name` (its own CODELM_CACHE). */
  const acceptanceLog = (name) => path.join(work, `cache-${name}`, 'acceptance.jsonl');

  /** The events of that log, as "kind languageId" lines. */
  function events(name) {
    const file = acceptanceLog(name);
    if (!fs.existsSync(file)) return [];
    return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l)).map((e) => `${e.kind} ${e.language}`);
  }

  /** The text of the editor's line `n` (0-based), ghost text excluded. */
  async function lineText(editor, n) {
    return editor.evaluate((el, n) => {
      const lines = [...el.querySelectorAll('.view-line')].sort((a, b) => parseFloat(a.style.top) - parseFloat(b.style.top));
      const line = lines[n];
      if (!line) return undefined;
      const clone = line.cloneNode(true);
      clone.querySelectorAll('.ghost-text-decoration, .ghost-text, .ghost-text-decoration-preview').forEach((g) => g.remove());
      return clone.textContent.replace(/\u00a0/g, ' ');
    }, n);
  }

  /** A code-server of its own (user settings, project folder, port) with the installed extension, open in a new page. */
  async function openEditor(name, overrides, extraFiles = {}, open = 'greet.py') {
    const userData = path.join(work, `user-data-${name}`);
    const folder = path.join(work, `project-${name}`);
    fs.mkdirSync(folder);
    const file = path.join(folder, 'greet.py');
    fs.writeFileSync(file, ON_DISK);
    for (const [fileName, text] of Object.entries(extraFiles)) fs.writeFileSync(path.join(folder, fileName), text);
    writeSettings(userData, {
      'security.workspace.trust.enabled': false,
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'extensions.ignoreRecommendations': true,
      'editor.inlineSuggest.enabled': true,
      'files.autoSave': 'off',
      'codelm.serverPath': codelmDll(),
      'codelm.checkpointPath': checkpoint,
      'codelm.temperature': 0,
      'codelm.maxNewTokens': 24,
      ...overrides,
    });
    const port = await freePort();
    const server = spawn(
      codeServer,
      ['--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--user-data-dir', userData, '--extensions-dir', extensions, folder],
      { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CODELM_CACHE: path.dirname(acceptanceLog(name)) } },
    );
    servers.push(server);
    const collect = (chunk) => (serverLog = (serverLog + chunk).slice(-20_000));
    server.stdout.on('data', collect);
    server.stderr.on('data', collect);
    await until('code-server to listen', () => healthy(port), 90_000, () => serverLog);

    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(folder)}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
    // Open the file by clicking it in the explorer.
    await page.getByRole('treeitem', { name: new RegExp(open.replace('.', '\\.')) }).first().click({ timeout: 60_000 });
    const editor = page.locator('.editor-instance .monaco-editor').first();
    await editor.locator('.view-lines').waitFor({ timeout: 30_000 });
    return { page, editor, file, userData, folder };
  }

  /** The CodeLm output channel's log file in this editor's user data (the extension's log, with the server's stderr). */
  function extensionLog(userData) {
    const logs = path.join(userData, 'logs');
    if (!fs.existsSync(logs)) return '';
    const found = [];
    const walk = (dir) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name === 'CodeLm.log') found.push(p);
      }
    };
    walk(logs);
    return found.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  }

  /** Cursor to the end of `def greet(name):`, then Enter: the editor indents into the function body. */
  async function enterFunctionBody(editor) {
    await editor.locator('.view-line').first().click();
    await page.keyboard.press('Control+Home');
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
  }

  before(async function () {
    assert.ok(codeServer && fs.existsSync(codeServer), 'CODE_SERVER_BIN is not set or missing: run tests/editor-e2e/run.sh');
    assert.ok(vsix && fs.existsSync(vsix), 'CODELM_VSIX is not set or missing: run tests/editor-e2e/run.sh');
    fs.mkdirSync(artifacts, { recursive: true });
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'codelm-e2e-'));
    extensions = path.join(work, 'extensions');
    checkpoint = await buildTinyCheckpoint(fs.mkdtempSync(path.join(work, 'ckpt-')));
    execFileSync(codeServer, ['--user-data-dir', path.join(work, 'install'), '--extensions-dir', extensions, '--install-extension', vsix], { stdio: 'pipe', timeout: 120_000 });
    assert.ok(fs.readdirSync(extensions).some((d) => d.startsWith('codelm.codelm-')), `extension not installed in ${extensions}`);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  afterEach(async function () {
    if (this.currentTest?.state === 'failed' && page) {
      await page.screenshot({ path: path.join(artifacts, `failed-${this.currentTest.title.replace(/\W+/g, '-')}.png`) }).catch(() => undefined);
      fs.writeFileSync(path.join(artifacts, 'code-server.log'), serverLog);
    }
  });

  after(async function () {
    await browser?.close().catch(() => undefined);
    for (const server of servers) {
      try {
        process.kill(-server.pid, 'SIGTERM'); // code-server and its children (extension host, codelm serve)
      } catch {
        /* already gone */
      }
    }
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('shows ghost text from codelm serve in a function body, and Tab accepts it', async function () {
    const { editor, file } = await openEditor('working', {});
    // The extension activated on the Python file, started the server and loaded the checkpoint.
    await page.locator('[aria-label="CodeLm: ready"]').first().waitFor({ timeout: 120_000 });
    await enterFunctionBody(editor);

    const ghost = page.locator('.ghost-text-decoration');
    await ghost.first().waitFor({ state: 'visible', timeout: 60_000 });
    const shown = (await ghost.allTextContents()).join('').replace(/\u00a0/g, ' ');
    await page.screenshot({ path: path.join(artifacts, 'ghost-text.png') });
    assert.strictEqual(shown, TRAINED_DOCUMENT.expected);

    await page.keyboard.press('Tab');
    await until('the ghost text to be gone', async () => (await ghost.count()) === 0, 10_000);
    await page.keyboard.press('Control+S');
    await until('the accepted completion on disk', () => fs.readFileSync(file, 'utf8').startsWith(ACCEPTED), 15_000, () => fs.readFileSync(file, 'utf8'));
    assert.strictEqual(fs.readFileSync(file, 'utf8'), ON_DISK.replace('def greet(name):\n', ACCEPTED));
    // The extension told the server, which logged it locally for `codelm stats`.
    await until('the shown and accepted events in the acceptance log', () => events('working').includes('Accepted python'), 15_000, () => events('working').join('\n'));
    assert.deepStrictEqual(events('working'), ['Shown python', 'Accepted python']);
    await page.close();
  });

  it('cycles to another candidate with Alt+] and back with Alt+[, and Ctrl+Right accepts one word', async function () {
    const { editor, file, userData } = await openEditor('cycling', {
      'codelm.verboseLog': true,
      'codelm.candidates': 8,
      // This model knows its one document by heart: only a hot sample strays from it.
      'codelm.candidateTemperature': 2,
      'editor.inlineSuggest.showToolbar': 'always',
    });
    await page.locator('[aria-label="CodeLm: ready"]').first().waitFor({ timeout: 120_000 });
    await enterFunctionBody(editor);
    const ghost = page.locator('.ghost-text-decoration');
    const shownText = async () => (await ghost.allTextContents()).join('').replace(/\u00a0/g, ' ');
    await ghost.first().waitFor({ state: 'visible', timeout: 60_000 });
    assert.strictEqual(await shownText(), TRAINED_DOCUMENT.expected);

    await page.keyboard.press('Alt+]');
    let other = '';
    await until('another candidate after Alt+]', async () => {
      other = (await ghost.count()) > 0 ? await shownText() : '';
      return other !== '' && other !== TRAINED_DOCUMENT.expected;
    }, 60_000, () => extensionLog(userData).slice(-3000));
    await page.screenshot({ path: path.join(artifacts, 'cycling.png') });
    await page.keyboard.press('Alt+[');
    await until('the first candidate again after Alt+[', async () => (await ghost.count()) > 0 && (await shownText()) === TRAINED_DOCUMENT.expected, 30_000);

    await page.keyboard.press('Control+ArrowRight');
    await until('one word accepted', async () => /^ {4}return ?$/.test((await lineText(editor, 1)) ?? ''), 15_000, () => '');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+S');
    await until('the saved word', () => fs.readFileSync(file, 'utf8').split('\n')[1].startsWith('    return'), 15_000, () => fs.readFileSync(file, 'utf8'));
    assert.match(fs.readFileSync(file, 'utf8').split('\n')[1], /^ {4}return ?$/);
    await until('the partial accept in the acceptance log', () => events('cycling').includes('Partial python'), 15_000, () => events('cycling').join('\n'));
    assert.strictEqual(events('cycling')[0], 'Shown python');
    await page.close();
  });

  it('puts a second open file before the prompt: its definition changes the completion, and the server log names it', async function () {
    const { editor, userData } = await openEditor('context', { 'codelm.verboseLog': true }, {
      [HELPERS.name]: HELPERS.text,
      [CONTEXT_DOCUMENT.name]: CONTEXT_DOCUMENT.text,
    }, CONTEXT_DOCUMENT.name);
    await page.locator('[aria-label="CodeLm: ready"]').first().waitFor({ timeout: 120_000 });
    const ghost = page.locator('.ghost-text-decoration');
    const shownText = async () => ((await ghost.count()) > 0 ? (await ghost.allTextContents()).join('').replace(/\u00a0/g, ' ') : '');

    // Only loud.py open: nothing of another file can be in the prompt.
    await until('loud.py in the editor', async () => (await lineText(editor, 0)) === 'from helpers import shout', 30_000);
    await editor.locator('.view-line').first().click();
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Enter');
    await until('the completion without context', async () => (await shownText()) === CONTEXT_DOCUMENT.withoutContext, 60_000, () => extensionLog(userData).slice(-3000));
    await page.keyboard.press('Escape');

    // helpers.py opened beside it: back in loud.py, the same place now completes with the helper.
    await page.getByRole('treeitem', { name: /helpers\.py/ }).first().click({ timeout: 30_000 });
    await page.getByRole('tab', { name: new RegExp(CONTEXT_DOCUMENT.name.replace('.', '\\.')) }).first().click({ timeout: 30_000 });
    await page.keyboard.press('Alt+\\');
    await until('the completion with helpers.py as context', async () => (await shownText()) === CONTEXT_DOCUMENT.withContext, 60_000, () => extensionLog(userData).slice(-3000));
    await page.screenshot({ path: path.join(artifacts, 'repo-context.png') });
    assert.match(extensionLog(userData), new RegExp(`context inline file://\\S*/${CONTEXT_DOCUMENT.name.replace('.', '\\.')}: ${HELPERS.name.replace('.', '\\.')}`));
    await page.close();
  });

  it('with a wrong server path: error status, a clear message, and no ghost text', async function () {
    const { editor } = await openEditor('broken', { 'codelm.serverPath': '/nonexistent/codelm' });
    await page.locator('[aria-label="CodeLm: error"]').first().waitFor({ timeout: 60_000 });
    // The message, with its button: as a toast, or in the notification center if the toast is already gone.
    const message = page.getByText(/server "\/nonexistent\/codelm" was not found/).first();
    try {
      await message.waitFor({ timeout: 15_000 });
    } catch {
      await page.locator('.statusbar [aria-label*="otifications"]').first().click();
      await message.waitFor({ timeout: 10_000 });
    }
    await page.getByRole('button', { name: 'Open Settings' }).first().waitFor({ timeout: 10_000 });
    await page.screenshot({ path: path.join(artifacts, 'server-error-message.png') });

    await enterFunctionBody(editor);
    // Well past the debounce and the time the working server took to answer in the first case.
    await new Promise((r) => setTimeout(r, 5000));
    await page.screenshot({ path: path.join(artifacts, 'server-error.png') });
    assert.strictEqual(await page.locator('.ghost-text-decoration').count(), 0);
    assert.ok(await page.locator('[aria-label="CodeLm: error"]').first().isVisible(), 'the status bar still shows the error');
  });
});
