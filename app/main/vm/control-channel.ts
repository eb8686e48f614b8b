// The host's end of the guest's control port (a virtio-serial port qemu exposes as a unix socket).
// berth-init reads one command per line; the connection stays open because the guest's reads
// return EOF, and it polls, while no host client is connected.
import net from 'node:net';

export class ControlChannel {
  private constructor(private readonly socket: net.Socket) {}

  /** Connects, retrying while qemu has not created the socket yet. */
  static async connect(socketPath: string, deadline: number, isAlive: () => boolean): Promise<ControlChannel> {
    for (;;) {
      try {
        const socket = await new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect(socketPath, () => { s.off('error', reject); resolve(s); });
          s.once('error', reject);
        });
        socket.on('error', () => socket.destroy());
        return new ControlChannel(socket);
      } catch (err) {
        if (!isAlive() || Date.now() > deadline) throw new Error(`cannot reach the VM's control port at ${socketPath}: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  /** Asks the guest to stop berthd, sync and power off. */
  requestPowerOff(): boolean {
    if (this.socket.destroyed) return false;
    this.socket.write('poweroff\n');
    return true;
  }

  close(): void {
    this.socket.destroy();
  }
}
