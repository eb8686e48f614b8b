// The renderer's entry: one store connected to window.berth, and the App.
import { createRoot } from 'react-dom/client';
import { berth } from './berth.js';
import { App } from './components/App.js';
import { StoreContext } from './components/store-context.js';
import { connectStore, createAppStore } from './stores/app-store.js';
import './styles.css';

const store = createAppStore();
connectStore(store, berth());
createRoot(document.getElementById('root')!).render(
  <StoreContext.Provider value={store}>
    <App />
  </StoreContext.Provider>,
);
