import type { IncomingMessage } from 'node:http';
import maxmind, { type AsnResponse, type CityResponse, type Reader } from 'maxmind';
import { ConfigError, settingName, type ConfigKey } from '../config/load.ts';
import type { GatehouseConfig } from '../config/schema.ts';
import { canonicalIp, type RequestSignals } from '../domain/network-access.ts';
import type { SignalAvailability, SignalName } from '../domain/network-acl-rules.ts';
import type { ClientOrigin } from './client-address.ts';

type Settings = GatehouseConfig['aclSignals'];

/** What network ACLs can know about a request here, and which signals that leaves out (refused in rules). */
export interface RequestSignalSource extends SignalAvailability {
  read(req: IncomingMessage): RequestSignals;
}

/** Opens a MaxMind DB, checking that its type carries what the setting promises (MaxMind's and compatible vendors' names). */
async function openDatabase<T extends CityResponse | AsnResponse>(key: 'geoip_database' | 'asn_database', file: string, expected: RegExp) {
  const setting = settingName(`aclSignals.${key}`);
  let reader: Reader<T>;
  try {
    reader = await maxmind.open<T>(file);
  } catch (err) {
    throw new ConfigError(setting, `names ${file}, which cannot be read as a MaxMind DB: ${(err as Error).message}`);
  }
  if (!expected.test(reader.metadata.databaseType)) {
    throw new ConfigError(setting, `names a ${reader.metadata.databaseType} database, which has no ${key === 'asn_database' ? 'autonomous systems' : 'countries'}`);
  }
  return reader;
}

const headerValue = (req: IncomingMessage, name: string | null) => {
  const value = name ? req.headers[name.toLowerCase()] : undefined;
  return (Array.isArray(value) ? value[0] : value)?.trim() || undefined;
};

/** `US-CA` as it is, or `CA` (as CloudFront sends it) completed with the country. */
const subdivisionCode = (value: string, country: string | undefined) => {
  const code = value.toUpperCase();
  if (code.includes('-')) return code;
  return country ? `${country}-${code}` : undefined;
};

const asNumber = (value: string | undefined) => {
  const digits = /^(?:AS)?(\d{1,10})$/i.exec(value ?? '')?.[1];
  return digits ? Number(digits) : undefined;
};

/**
 * The signals of a request: its address (from `origin`), its User-Agent, and, when configured, its country,
 * subdivisions and autonomous system (from a trusted proxy's header, else from the operator's MaxMind databases),
 * and its JA3/JA4 fingerprints (from a trusted proxy's header only: only the TLS terminator can compute them).
 * Geo and ASN lookups happen only when a rule asks for them.
 */
export async function openRequestSignals(settings: Settings, origin: ClientOrigin): Promise<RequestSignalSource> {
  const geo = settings.geoip_database ? await openDatabase<CityResponse>('geoip_database', settings.geoip_database, /country|city|enterprise/i) : undefined;
  const asnDb = settings.asn_database ? await openDatabase<AsnResponse>('asn_database', settings.asn_database, /asn|isp/i) : undefined;
  const geoHasSubdivisions = geo !== undefined && /city|enterprise/i.test(geo.metadata.databaseType);

  const sources: Record<'geo_country_codes' | 'geo_subdivision_codes' | 'asns' | 'ja3_fingerprints' | 'ja4_fingerprints', { available: boolean; settings: ConfigKey[] }> = {
    geo_country_codes: { available: Boolean(geo || settings.country_header), settings: ['aclSignals.geoip_database', 'aclSignals.country_header'] },
    geo_subdivision_codes: { available: geoHasSubdivisions || Boolean(settings.subdivision_header), settings: ['aclSignals.geoip_database', 'aclSignals.subdivision_header'] },
    asns: { available: Boolean(asnDb || settings.asn_header), settings: ['aclSignals.asn_database', 'aclSignals.asn_header'] },
    ja3_fingerprints: { available: Boolean(settings.ja3_header), settings: ['aclSignals.ja3_header'] },
    ja4_fingerprints: { available: Boolean(settings.ja4_header), settings: ['aclSignals.ja4_header'] },
  };

  return {
    missing(signal: SignalName) {
      const source = signal in sources ? sources[signal as keyof typeof sources] : undefined;
      if (!source || source.available) return undefined;
      const subdivisionNote = signal === 'geo_subdivision_codes' && geo ? ` (the ${geo.metadata.databaseType} database has no subdivisions: use a City one)` : '';
      return `this server has no source for it; set ${source.settings.map(settingName).join(' or ')}${subdivisionNote}`;
    },
    read(req) {
      const ip = origin.address(req);
      // Headers count only when a trusted proxy set them; anyone else could write anything in them.
      const trusted = origin.viaTrustedProxy(req);
      const header = (name: string | null) => (trusted ? headerValue(req, name) : undefined);
      let city: CityResponse | null | undefined;
      const cityRecord = () => (city === undefined ? (city = geo?.get(canonicalIp(ip)) ?? null) : city);
      const signals: RequestSignals = {
        ip,
        ...(req.headers['user-agent'] !== undefined ? { userAgent: req.headers['user-agent'] } : {}),
        get country() {
          return header(settings.country_header)?.toUpperCase() ?? cityRecord()?.country?.iso_code;
        },
        get subdivisions() {
          const sent = header(settings.subdivision_header);
          if (sent) return [subdivisionCode(sent, this.country)].filter((code): code is string => code !== undefined);
          const record = cityRecord();
          return record?.subdivisions?.map((subdivision) => `${record.country?.iso_code}-${subdivision.iso_code}`) ?? [];
        },
        get asn() {
          return asNumber(header(settings.asn_header)) ?? asnDb?.get(canonicalIp(ip))?.autonomous_system_number;
        },
        get ja3() {
          return header(settings.ja3_header)?.toLowerCase();
        },
        get ja4() {
          return header(settings.ja4_header)?.toLowerCase();
        },
      };
      return signals;
    },
  };
}
