export { backup } from './backup.js';
