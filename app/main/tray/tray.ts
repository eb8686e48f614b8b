// The Electron tray: rebuilds its menu from trayMenu(state) whenever the engine status or the
// container list changes, and turns each menu action into a service call or a window command.
import { Menu, Tray, nativeImage, type MenuItemConstructorOptions } from 'electron';
import type { ContainerView, EngineStatus } from '../../shared/views.js';
import { trayMenu, type TrayAction, type TrayItem } from './tray-menu.js';

// A 16×16 circle in the accent colour, generated once; packaged builds may swap in real artwork.
const ICON = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAAaElEQVR4nGPQz7/HQAnGJigLxB1AfBmIf0HxZaiYLCEDUqAa/uPAv6BqsBqQgkcjOk5BN0CWgM3YXCKLbEAHCZphuAPZgMtkGHAZ2QBSnI/sDeoZQLEXKA5EiqOR4oRElaRMlcxEMgYAI64WI8unHTMAAAAASUVORK5CYII=';

export interface TrayHandlers {
  run(action: TrayAction): void;
}

export class BerthTray {
  private readonly tray: Tray;
  private engine: EngineStatus = { connection: 'connecting', endpoint: '', jobs: false };
  private containers: ContainerView[] = [];

  constructor(private readonly handlers: TrayHandlers, private readonly engineControllable = false) {
    this.tray = new Tray(nativeImage.createFromDataURL(ICON));
    this.tray.setToolTip('Berth');
    this.render();
  }

  update(change: { engine?: EngineStatus; containers?: ContainerView[] }): void {
    if (change.engine) this.engine = change.engine;
    if (change.containers) this.containers = change.containers;
    this.render();
  }

  destroy(): void {
    this.tray.destroy();
  }

  private render(): void {
    const template = trayMenu({ engine: this.engine, containers: this.containers, engineControllable: this.engineControllable, enginePaused: false });
    this.tray.setContextMenu(Menu.buildFromTemplate(template.map((item) => this.toElectron(item))));
  }

  private toElectron(item: TrayItem): MenuItemConstructorOptions {
    if (item.type === 'separator') return { type: 'separator' };
    const action = item.action;
    return {
      label: item.label,
      enabled: item.enabled ?? true,
      submenu: item.submenu?.map((i) => this.toElectron(i)),
      click: action ? () => this.handlers.run(action) : undefined,
    };
  }
}
