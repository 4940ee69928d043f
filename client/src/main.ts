/**
 * Entry point: importing the element modules registers `<fleet-app>`, `<fleet-grid>`,
 * `<chip-tile>`, `<chip-detail>` and `<uplot-chart>`; then the app is mounted.
 */
import './uplot-chart.ts';
import './chip-tile.ts';
import './fleet-grid.ts';
import './chip-detail.ts';
import './fleet-app.ts';

if (!document.querySelector('fleet-app')) {
  document.body.append(document.createElement('fleet-app'));
}
