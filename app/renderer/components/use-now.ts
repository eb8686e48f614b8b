import { useEffect, useState } from 'react';

/** The time, ticking every `ms`, so relative times ("Up 5 minutes") stay true. */
export function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
