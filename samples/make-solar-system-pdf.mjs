// Generates documents/solar-system-field-guide.pdf, the demo's PDF sample (the PDF is committed; run this
// only to change it): `node samples/make-solar-system-pdf.mjs` from the repository root.
// pdfkit is a development dependency of the CLI package, so it is resolved from there.
import { createWriteStream } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../apps/cli/package.json', import.meta.url));
const PDFDocument = require('pdfkit');

const pages = [
  {
    title: 'The Inner Planets',
    paragraphs: [
      'Mercury is the smallest planet and the closest to the Sun. It has no moons, and its surface temperature swings from about minus 180 degrees Celsius at night to 430 degrees Celsius by day.',
      'Venus turns so slowly that a day on Venus lasts 243 Earth days, longer than its year of 225 Earth days. Its thick clouds of sulphuric acid trap heat, which makes Venus the hottest planet.',
      'Mars has the tallest volcano known in the solar system, Olympus Mons, which rises about 22 kilometres above the surrounding plains. Mars has two small moons, Phobos and Deimos.',
    ],
  },
  {
    title: 'The Gas Giants',
    paragraphs: [
      'Jupiter is the largest planet. Its Great Red Spot is a storm wider than the Earth that has been watched for more than 150 years.',
      'Saturn is less dense than water. Its rings are made mostly of ice, in pieces from grains of dust to boulders as big as houses.',
    ],
  },
  {
    title: 'The Ice Giants and the Dwarf Planets',
    paragraphs: [
      'Uranus rotates on its side: its axis is tilted by about 98 degrees, so each pole has 42 years of sunlight followed by 42 years of darkness.',
      'Neptune has the fastest winds measured on any planet, up to about 2,100 kilometres per hour.',
      'Pluto was reclassified as a dwarf planet by the International Astronomical Union in 2006. Ceres, in the asteroid belt, is a dwarf planet too.',
    ],
  },
];

// A fixed date keeps the file identical from one run to the next.
const doc = new PDFDocument({
  autoFirstPage: false,
  info: {
    Title: 'A Field Guide to the Solar System',
    Author: 'Quire samples',
    CreationDate: new Date('2024-01-01T00:00:00Z'),
  },
});
doc.pipe(createWriteStream(new URL('./documents/solar-system-field-guide.pdf', import.meta.url)));
pages.forEach((page, index) => {
  doc.addPage({ size: 'A4', margin: 60 });
  if (index === 0) {
    doc.font('Helvetica-Bold').fontSize(20).text('A Field Guide to the Solar System');
    doc.font('Helvetica').fontSize(10).text('Written for this repository as a short sample document.');
    doc.moveDown();
  }
  doc.font('Helvetica-Bold').fontSize(15).text(page.title);
  doc.moveDown(0.5);
  for (const paragraph of page.paragraphs) {
    doc.font('Helvetica').fontSize(12).text(paragraph, { align: 'left' });
    doc.moveDown(0.6);
  }
  doc
    .font('Helvetica')
    .fontSize(9)
    .text(`Page ${index + 1} of ${pages.length}`, 60, 750, { lineBreak: false });
});
doc.end();
