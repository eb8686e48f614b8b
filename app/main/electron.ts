// The Electron main process: one BrowserWindow over the shared services. The window is locked
// down (context isolation, sandbox, no Node, a strict CSP, no navigation, no new windows); every
// IPC request is checked for its sender and its arguments before a service sees it.
import { app, BrowserWindow, dialog, ipcMain, session, shell, type IpcMainInvokeEvent, type WebContents } from 'electron';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { requestChannels } from '../shared/contract.js';
import { BerthServices, toBridgeError, type Session } from './services/berth-services.js';
import { BerthTray } from './tray/tray.js';
import type { TrayAction } from './tray/tray-menu.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// Bundled layout (scripts/build.mjs → app/build.mjs): dist/app/main.mjs, dist/app/preload.cjs, dist/renderer/.
const rendererIndex = path.join(here, '..', 'renderer', 'index.html');
const rendererUrl = pathToFileURL(rendererIndex).toString();
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'none'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const services = new BerthServices({ settingsFile: path.join(app.getPath('userData'), 'settings.json') });
const sessions = new Map<number, Session>();
let mainWindow: BrowserWindow | undefined;
let tray: BerthTray | undefined;

function isOurPage(url: string): boolean {
  return url === rendererUrl || url.startsWith(`${rendererUrl}#`) || url.startsWith(`${rendererUrl}?`);
}

function createWindow(): void {
  const win = new BrowserWindow({
    width: 1200,
    height: 800,
    minWidth: 720,
    minHeight: 480,
    title: 'Berth',
    show: false,
    webPreferences: {
      preload: path.join(here, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  const contents = win.webContents;
  guardNavigation(contents);
  const id = contents.id;
  sessions.set(id, services.openSession((channel, payload) => {
    if (!contents.isDestroyed()) contents.send(channel, payload);
  }, undefined, {
    // The build form's context folder: the system's own folder picker, attached to this window.
    pickFolder: async () => {
      const picked = await dialog.showOpenDialog(win, { title: 'Choose the build context folder', properties: ['openDirectory'] });
      return picked.canceled ? undefined : picked.filePaths[0];
    },
  }));
  contents.once('destroyed', () => {
    sessions.get(id)?.dispose();
    sessions.delete(id);
  });
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => { if (mainWindow === win) mainWindow = undefined; });
  mainWindow = win;
  void win.loadFile(rendererIndex);
}

function showWindow(): BrowserWindow {
  if (!mainWindow) createWindow();
  mainWindow!.show();
  mainWindow!.focus();
  return mainWindow!;
}

/** What a tray menu item does. */
function runTrayAction(action: TrayAction): void {
  const report = (p: Promise<unknown>) => p.catch((err: Error) => console.error(`berth: ${err.message}`));
  switch (action.kind) {
    case 'open': showWindow(); break;
    case 'quit': app.quit(); break;
    case 'engine': break; // the VM manager owns pausing; nothing to do for an external engine
    case 'container':
      if (action.verb === 'logs' || action.verb === 'terminal') {
        const win = showWindow();
        win.webContents.send('app:navigate', { containerId: action.id, tab: action.verb });
      } else if (action.verb === 'start') report(services.containers.start(action.id));
      else if (action.verb === 'stop') report(services.containers.stop(action.id));
      else report(services.containers.restart(action.id));
      break;
  }
}

/** The window shows only our page; links to the web open in the user's browser. */
function guardNavigation(contents: WebContents): void {
  contents.on('will-navigate', (event, url) => {
    if (!isOurPage(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isOurPage(url)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
}

function registerIpc(): void {
  for (const channel of requestChannels) {
    ipcMain.handle(channel, async (event: IpcMainInvokeEvent, ...args: unknown[]) => {
      // Only our own page in our own window may call main.
      const frameUrl = event.senderFrame?.url ?? '';
      const s = sessions.get(event.sender.id);
      if (!s || !isOurPage(frameUrl)) return { ok: false, error: { status: 403, message: 'IPC from an unknown page was refused' } };
      try {
        return { ok: true, result: await s.handle(channel, args) };
      } catch (err) {
        return { ok: false, error: toBridgeError(err) };
      }
    });
  }
}

app.enableSandbox();
app.on('web-contents-created', (_event, contents) => guardNavigation(contents));

void app.whenReady().then(() => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  // The app asks for no device permissions; refuse them all.
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  registerIpc();
  tray = new BerthTray({ run: runTrayAction });
  // The tray follows the same pushes the windows get. Its menu is rebuilt whole, so a burst of
  // container changes (1000 containers starting) makes one rebuild a quarter of a second later.
  let trayRefresh: NodeJS.Timeout | undefined;
  services.broadcaster.listen((channel) => {
    if (channel === 'engine:status') tray?.update({ engine: services.engine.status() });
    if (channel === 'containers:changed') {
      trayRefresh ??= setTimeout(() => {
        trayRefresh = undefined;
        tray?.update({ containers: services.containers.list() });
      }, 250);
    }
  });
  services.start();
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app.on('before-quit', () => services.stop());
